import Foundation
import Crypto

/// A document of Intel's Provisioning Certification Service (TCB info, QE identity): a JSON object whose
/// one body member (`tcbInfo` or `enclaveIdentity`) is signed, byte for byte as sent, by the key of the
/// issuer chain's leaf with ECDSA-P256/SHA-256 (`signature`: hex r ‖ s).
///
/// Source: Intel SGX and TDX DCAP PCS API specification, "Get TDX TCB Information" and "Get TDX Quoting
/// Enclave Identity" (v4 API).
struct SignedCollateral {
    /// The exact bytes of the signed member's value.
    let signedBytes: [UInt8]
    let signature: [UInt8]

    init(json: [UInt8], member: String, what: String) throws {
        guard let range = RawJSONMember.valueRange(of: member, in: json) else {
            throw TrustedExecutionError.invalid("\(what): no '\(member)' object")
        }
        signedBytes = Array(json[range])
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
              let hex = object["signature"] as? String else {
            throw TrustedExecutionError.invalid("\(what): no 'signature' string")
        }
        signature = try Hex.decode(hex, field: "\(what) signature")
        guard signature.count == 64 else {
            throw TrustedExecutionError.invalid("\(what): signature is \(signature.count) bytes; expected 64 (ECDSA-P256 r ‖ s)")
        }
    }

    func isValid(by key: P256.Signing.PublicKey) -> Bool {
        guard let sig = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
        return key.isValidSignature(sig, for: SHA256.hash(data: signedBytes))
    }
}

/// Finds the raw bytes of a top-level member's value in a JSON object without re-encoding it (signatures
/// are over the bytes as sent, so a parse-and-reserialise would not verify).
enum RawJSONMember {
    static func valueRange(of member: String, in json: [UInt8]) -> Range<Int>? {
        let key = Array("\"\(member)\"".utf8)
        var depth = 0
        var i = 0
        var inString = false
        while i < json.count {
            let c = json[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == UInt8(ascii: "\"") { inString = false }
                i += 1
                continue
            }
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: "\""):
                if depth == 1, json.count - i >= key.count, Array(json[i..<(i + key.count)]) == key {
                    var j = i + key.count
                    while j < json.count, json[j] == UInt8(ascii: " ") || json[j] == UInt8(ascii: ":") { j += 1 }
                    guard j < json.count, json[j] == UInt8(ascii: "{") else { return nil }
                    return objectEnd(from: j, in: json).map { j..<$0 }
                }
                inString = true
            default: break
            }
            i += 1
        }
        return nil
    }

    /// The index just past the object that starts at `start`.
    private static func objectEnd(from start: Int, in json: [UInt8]) -> Int? {
        var depth = 0
        var inString = false
        var i = start
        while i < json.count {
            let c = json[i]
            if inString {
                if c == UInt8(ascii: "\\") { i += 2; continue }
                if c == UInt8(ascii: "\"") { inString = false }
            } else if c == UInt8(ascii: "\"") {
                inString = true
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                depth += 1
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                depth -= 1
                if depth == 0 { return i + 1 }
            }
            i += 1
        }
        return nil
    }
}
