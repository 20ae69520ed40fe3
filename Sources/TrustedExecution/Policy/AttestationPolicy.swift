import CheckedYAML
import Foundation
import Yams

/// A relying party's policy: which TEE, which measurements, which TCB, whether debug or simulated evidence
/// is acceptable, and what the report data must be. Read from YAML; an unknown key is an error naming it.
///
/// ```yaml
/// tee: tdx                      # tdx | sev-snp | simulated (required)
/// measurement: "…"              # MRTD (TDX), MEASUREMENT (SNP) or the Veil measurement (simulated), hex
/// rtmr0: "…"                    # TDX only, rtmr0…rtmr3, hex
/// allow_debug: false            # default false
/// accepted_tcb_statuses: [UpToDate]   # TDX platform and QE TCB statuses accepted (default UpToDate)
/// minimum_tcb: {bootloader: 2, tee: 0, snp: 5, microcode: 68}   # SNP reported TCB floor
/// max_vmpl: 0                   # SNP: highest VMPL accepted (default 0)
/// product: Milan                # SNP: the AMD product whose ARK/ASK must sign the VCEK
/// report_data: "…"              # exact 64-byte report data, hex (or bind a nonce and key at verification)
/// require_collateral: true      # TDX: TCB info, QE identity and CRLs must be given (default true)
/// allow_simulated: false        # must be true, with tee: simulated, for simulated evidence
/// ```
public struct AttestationPolicy: Sendable, Equatable {
    public enum TEE: String, Sendable, CaseIterable { case tdx, sevSNP = "sev-snp", simulated }

    public var tee: TEE
    public var measurement: [UInt8]?
    public var rtmrs: [Int: [UInt8]] = [:]
    public var allowDebug = false
    public var acceptedTCBStatuses: Set<String> = ["UpToDate"]
    public var minimumTCB: SNPTCBVersion?
    public var maxVMPL: UInt32 = 0
    public var product: String?
    public var reportData: [UInt8]?
    public var requireCollateral = true
    public var allowSimulated = false

    public init(tee: TEE) { self.tee = tee }

    static let knownKeys: Set<String> = ["tee", "measurement", "rtmr0", "rtmr1", "rtmr2", "rtmr3", "allow_debug",
                                         "accepted_tcb_statuses", "minimum_tcb", "max_vmpl", "product",
                                         "report_data", "require_collateral", "allow_simulated"]

    /// Parses a policy file's YAML text.
    /// - Throws: ``TrustedExecutionError`` (`invalidInput`) naming the unknown key or the malformed field.
    public init(yaml: String) throws {
        let loaded: Any?
        do { loaded = try CheckedYAML.load(yaml) } catch {
            throw TrustedExecutionError.invalid("policy: not valid YAML (\(error))")
        }
        guard let map = loaded as? [String: Any] else { throw TrustedExecutionError.invalid("policy: expected a mapping at the top level") }
        for key in map.keys.sorted() where !Self.knownKeys.contains(key) {
            throw TrustedExecutionError.invalid("policy: unknown key '\(key)'")
        }
        guard let teeName = map["tee"] as? String else { throw TrustedExecutionError.invalid("policy: 'tee' is required (tdx, sev-snp or simulated)") }
        guard let tee = TEE(rawValue: teeName) else {
            throw TrustedExecutionError.invalid("policy: tee '\(teeName)' is not one of tdx, sev-snp, simulated")
        }
        self.init(tee: tee)
        func hex(_ key: String, count: Int) throws -> [UInt8]? {
            guard let value = map[key] else { return nil }
            guard let text = value as? String else { throw TrustedExecutionError.invalid("policy: \(key) must be a hex string") }
            let bytes = try Hex.decode(text, field: "policy: \(key)")
            guard bytes.count == count else { throw TrustedExecutionError.invalid("policy: \(key) must be \(count) bytes, got \(bytes.count)") }
            return bytes
        }
        func bool(_ key: String) throws -> Bool? {
            guard let value = map[key] else { return nil }
            guard let b = value as? Bool else { throw TrustedExecutionError.invalid("policy: \(key) must be true or false") }
            return b
        }
        measurement = try hex("measurement", count: 48)
        for i in 0..<4 { if let v = try hex("rtmr\(i)", count: 48) { rtmrs[i] = v } }
        allowDebug = try bool("allow_debug") ?? false
        requireCollateral = try bool("require_collateral") ?? true
        allowSimulated = try bool("allow_simulated") ?? false
        reportData = try hex("report_data", count: 64)
        if let value = map["accepted_tcb_statuses"] {
            guard let list = value as? [String], !list.isEmpty else {
                throw TrustedExecutionError.invalid("policy: accepted_tcb_statuses must be a non-empty list of strings")
            }
            acceptedTCBStatuses = Set(list)
        }
        if let value = map["max_vmpl"] {
            guard let v = value as? Int, (0...3).contains(v) else { throw TrustedExecutionError.invalid("policy: max_vmpl must be 0…3") }
            maxVMPL = UInt32(v)
        }
        if let value = map["product"] {
            guard let p = value as? String, SNPProduct(rawValue: p) != nil else {
                throw TrustedExecutionError.invalid("policy: product must be one of \(SNPProduct.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            product = p
        }
        if let value = map["minimum_tcb"] {
            guard let m = value as? [String: Any] else { throw TrustedExecutionError.invalid("policy: minimum_tcb must be a mapping") }
            let names = ["bootloader", "tee", "snp", "microcode"]
            for key in m.keys.sorted() where !names.contains(key) {
                throw TrustedExecutionError.invalid("policy: unknown key 'minimum_tcb.\(key)'")
            }
            var parts = [UInt8]()
            for name in names {
                guard let v = m[name] as? Int, (0...255).contains(v) else {
                    throw TrustedExecutionError.invalid("policy: minimum_tcb.\(name) must be an integer 0…255")
                }
                parts.append(UInt8(v))
            }
            minimumTCB = SNPTCBVersion(bootloader: parts[0], tee: parts[1], snp: parts[2], microcode: parts[3])
        }
        if tee == .simulated && !allowSimulated {
            throw TrustedExecutionError.invalid("policy: tee 'simulated' needs allow_simulated: true")
        }
    }

    /// Loads a policy file.
    public init(contentsOf url: URL) throws {
        let data = try BoundedFile.read(url.path, limit: 1 << 16, what: "policy")
        try self.init(yaml: String(decoding: data, as: UTF8.self))
    }
}
