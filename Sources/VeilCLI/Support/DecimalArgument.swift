import ArgumentParser

/// The strict reading of a numeric option (ε, δ, sensitivities, rates, confidence levels): a plain
/// decimal number, nothing else.
///
/// Accepted: an optional `-`, digits with an optional fraction (`3`, `0.5`, `.5`, `5.`), and an
/// optional exponent (`1e-6`, `2.5E+3`). Refused, with one line naming the option: a leading `+`,
/// hexadecimal (`0x10`, `0x1p-3`), `nan`, `inf`, `infinity`, spaces, digit separators, and any
/// value that overflows to infinity (`1e400`). The range of each option is checked by the library
/// afterwards (so `-1` reaches it and gets the parameter's own message). `-0` is read as `0`: a
/// negative zero has no meaning for a cost, and the ledger hashes amounts in canonical form.
///
/// Use it as the transform of an option so that the option stays a `Double`:
/// ```swift
/// @Option(parsing: .unconditional, transform: DecimalArgument.parse) var epsilon: Double
/// ```
enum DecimalArgument {
    /// A refused number: its message is the one line the user sees after the option's name.
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads `text` as a plain decimal number.
    /// - Throws: ``Refusal`` when `text` is not one, or is too large to be finite.
    static func parse(_ text: String) throws -> Double {
        guard isPlainDecimal(text) else {
            throw Refusal(description: "expected a plain decimal number such as 0.5, 3 or 1e-6")
        }
        guard let value = Double(text), value.isFinite else {
            throw Refusal(description: "the number is too large")
        }
        return value == 0 ? 0 : value   // −0 → +0
    }

    /// Whether `text` matches `-?(digits(.digits?)?|.digits)([eE][+-]?digits)?` in ASCII.
    static func isPlainDecimal(_ text: String) -> Bool {
        var bytes = text.utf8[...]
        func digits() -> Int {
            var n = 0
            while let b = bytes.first, b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") {
                bytes = bytes.dropFirst()
                n += 1
            }
            return n
        }
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        var mantissaDigits = digits()
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            mantissaDigits += digits()
        }
        guard mantissaDigits > 0 else { return false }
        if let b = bytes.first, b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }
}
