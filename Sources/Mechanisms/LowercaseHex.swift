/// Bytes written as lowercase hexadecimal, two digits a byte (the form of every digest Veil records or prints).
public enum LowercaseHex {
    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// `bytes` as lowercase hexadecimal digits, most significant nibble first.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var characters = [UInt8]()
        characters.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: characters, as: UTF8.self)
    }
}
