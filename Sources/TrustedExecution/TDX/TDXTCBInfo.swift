import Foundation

/// Intel's TDX TCB info (PCS v4, `tcbInfo` version 3): for one FMSPC, the TCB levels in decreasing order,
/// each with SGX TCB components, PCESVN, TDX TCB components and a status.
///
/// Source: Intel SGX and TDX DCAP PCS API, "TDX TCB Info V3" data model.
public struct TDXTCBInfo: Decodable, Sendable {
    public struct Component: Decodable, Sendable { public let svn: Int }
    public struct TCB: Decodable, Sendable {
        public let sgxtcbcomponents: [Component]
        public let pcesvn: Int
        public let tdxtcbcomponents: [Component]
    }
    public struct Level: Decodable, Sendable {
        public let tcb: TCB
        public let tcbDate: String
        public let tcbStatus: String
        public let advisoryIDs: [String]?
    }
    public struct TDXModule: Decodable, Sendable {
        public let mrsigner: String
        public let attributes: String
        public let attributesMask: String
    }
    public let id: String
    public let version: Int
    public let issueDate: Date
    public let nextUpdate: Date
    public let fmspc: String
    public let pceId: String
    public let tdxModule: TDXModule?
    public let tcbLevels: [Level]
}

/// Intel's TD quoting enclave identity (PCS v4, `enclaveIdentity` version 2, id `TD_QE`).
public struct QEIdentity: Decodable, Sendable {
    public struct Level: Decodable, Sendable {
        public struct TCB: Decodable, Sendable { public let isvsvn: Int }
        public let tcb: TCB
        public let tcbDate: String
        public let tcbStatus: String
    }
    public let id: String
    public let version: Int
    public let issueDate: Date
    public let nextUpdate: Date
    public let miscselect: String
    public let miscselectMask: String
    public let attributes: String
    public let attributesMask: String
    public let mrsigner: String
    public let isvprodid: Int
    public let tcbLevels: [Level]
}

enum CollateralJSON {
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], member: String, what: String) throws -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.userInfo[.member] = member
        do {
            return try decoder.decode(CollateralEnvelope<T>.self, from: Data(bytes)).value
        } catch let DecodingError.keyNotFound(key, context) {
            throw TrustedExecutionError.invalid("\(what): missing field \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))")
        } catch let DecodingError.typeMismatch(_, context) {
            throw TrustedExecutionError.invalid("\(what): field \(context.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type")
        } catch let DecodingError.dataCorrupted(context) {
            throw TrustedExecutionError.invalid("\(what): \(context.codingPath.map(\.stringValue).joined(separator: ".")) \(context.debugDescription)")
        } catch {
            throw TrustedExecutionError.invalid("\(what): not valid JSON (\(error))")
        }
    }

    struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

/// `{"MEMBER": T, …}` where the member's name comes from the decoder's user info.
struct CollateralEnvelope<T: Decodable>: Decodable {
    let value: T
    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CollateralJSON.AnyKey.self)
        value = try container.decode(T.self, forKey: CollateralJSON.AnyKey(stringValue: decoder.userInfo[.member] as! String))
    }
}

extension CodingUserInfoKey {
    static let member = CodingUserInfoKey(rawValue: "veil.collateral.member")!
}
