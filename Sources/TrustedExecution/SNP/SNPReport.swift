/// An AMD SEV-SNP attestation report (ATTESTATION_REPORT, version 2 and later), parsed field by field.
///
/// Layout: AMD SEV Secure Nested Paging Firmware ABI Specification, Table "ATTESTATION_REPORT Structure"
/// (rev. 1.55+): 0x4A0 bytes; the signature at 0x2A0 covers bytes 0x000–0x29F; ECDSA P-384 with SHA-384,
/// r and s each 72 bytes little-endian (zero-padded).
public struct SNPReport: Sendable {
    public static let size = 0x4A0
    public static let signedSize = 0x2A0
    /// Signature algorithm 1: ECDSA P-384 with SHA-384.
    public static let signatureAlgorithmECDSAP384SHA384: UInt32 = 1

    public let version: UInt32
    public let guestSVN: UInt32
    public let policy: UInt64
    public let familyID: [UInt8]
    public let imageID: [UInt8]
    public let vmpl: UInt32
    public let signatureAlgorithm: UInt32
    public let currentTCB: SNPTCBVersion
    public let platformInfo: UInt64
    /// Bits 0 AUTHOR_KEY_EN, 1 MASK_CHIP_KEY, 2–4 SIGNING_KEY (0 = VCEK, 1 = VLEK).
    public let keyInfo: UInt32
    public let reportData: [UInt8]
    public let measurement: [UInt8]
    public let hostData: [UInt8]
    public let idKeyDigest: [UInt8]
    public let authorKeyDigest: [UInt8]
    public let reportID: [UInt8]
    public let reportIDMA: [UInt8]
    public let reportedTCB: SNPTCBVersion
    public let chipID: [UInt8]
    public let committedTCB: SNPTCBVersion
    public let launchTCB: SNPTCBVersion
    /// r ‖ s, each 72 bytes little-endian as in the report.
    public let signatureR: [UInt8]
    public let signatureS: [UInt8]
    /// Bytes 0x000–0x29F.
    public let signedBytes: [UInt8]

    /// Guest policy bit 19: DEBUG — the hypervisor may debug (read) the guest.
    public var debugAllowed: Bool { policy & (1 << 19) != 0 }
    /// Which key signed the report: 0 VCEK, 1 VLEK.
    public var signingKey: UInt32 { (keyInfo >> 2) & 0x7 }

    /// Parses a report.
    /// - Throws: ``TrustedExecutionError`` (`invalidInput`) for a wrong size, a version below 2, an unknown
    ///   signature algorithm, or non-zero must-be-zero fields.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.size else {
            throw TrustedExecutionError.invalid("SNP report is \(bytes.count) bytes; expected \(Self.size) (0x4A0)")
        }
        var r = LittleEndianReader(bytes, structure: "SNP report")
        version = try r.uint32("version")
        guard version >= 2, version <= 5 else {
            throw TrustedExecutionError.invalid("SNP report version is \(version); versions 2 to 5 are supported")
        }
        guestSVN = try r.uint32("guest_svn")
        policy = try r.uint64("policy")
        familyID = try r.bytes(16, field: "family_id")
        imageID = try r.bytes(16, field: "image_id")
        vmpl = try r.uint32("vmpl")
        signatureAlgorithm = try r.uint32("signature_algo")
        guard signatureAlgorithm == Self.signatureAlgorithmECDSAP384SHA384 else {
            throw TrustedExecutionError.invalid("SNP report signature_algo is \(signatureAlgorithm); only 1 (ECDSA P-384 SHA-384) is supported")
        }
        currentTCB = SNPTCBVersion(raw: try r.uint64("current_tcb"))
        platformInfo = try r.uint64("platform_info")
        keyInfo = try r.uint32("key_info")
        _ = try r.bytes(4, field: "reserved_0x4c")
        reportData = try r.bytes(64, field: "report_data")
        measurement = try r.bytes(48, field: "measurement")
        hostData = try r.bytes(32, field: "host_data")
        idKeyDigest = try r.bytes(48, field: "id_key_digest")
        authorKeyDigest = try r.bytes(48, field: "author_key_digest")
        reportID = try r.bytes(32, field: "report_id")
        reportIDMA = try r.bytes(32, field: "report_id_ma")
        reportedTCB = SNPTCBVersion(raw: try r.uint64("reported_tcb"))
        _ = try r.bytes(0x18, field: "reserved_0x188")
        chipID = try r.bytes(64, field: "chip_id")
        committedTCB = SNPTCBVersion(raw: try r.uint64("committed_tcb"))
        _ = try r.bytes(8, field: "current_and_committed_version")
        launchTCB = SNPTCBVersion(raw: try r.uint64("launch_tcb"))
        _ = try r.bytes(Self.signedSize - r.offset, field: "reserved_0x1f8")
        signatureR = try r.bytes(72, field: "signature.r")
        signatureS = try r.bytes(72, field: "signature.s")
        let reserved = try r.bytes(Self.size - r.offset, field: "signature.reserved")
        guard reserved.allSatisfy({ $0 == 0 }) else {
            throw TrustedExecutionError.invalid("SNP report signature.reserved (0x330–0x49F) is not zero")
        }
        guard signatureR[48...].allSatisfy({ $0 == 0 }), signatureS[48...].allSatisfy({ $0 == 0 }) else {
            throw TrustedExecutionError.invalid("SNP report signature r or s has non-zero bytes beyond the 48 of a P-384 scalar")
        }
        let signingKeyField = (keyInfo >> 2) & 0x7
        guard signingKeyField == 0 else {
            throw TrustedExecutionError.invalid("SNP report key_info.signing_key is \(signingKeyField); only 0 (VCEK) is supported")
        }
        signedBytes = Array(bytes[0..<Self.signedSize])
    }

    /// The signature in swift-crypto's raw form: r ‖ s, 48 bytes each, big-endian.
    var rawSignature: [UInt8] { Array(signatureR[0..<48].reversed()) + Array(signatureS[0..<48].reversed()) }
}

/// A TCB_VERSION of Milan and Genoa: security patch levels of the bootloader, the PSP OS (TEE), the SNP
/// firmware and the microcode, packed in 64 bits (bytes 0, 1, 6, 7; bytes 2–5 reserved).
public struct SNPTCBVersion: Sendable, Equatable, CustomStringConvertible {
    public let bootloader: UInt8
    public let tee: UInt8
    public let snp: UInt8
    public let microcode: UInt8

    public init(bootloader: UInt8, tee: UInt8, snp: UInt8, microcode: UInt8) {
        self.bootloader = bootloader
        self.tee = tee
        self.snp = snp
        self.microcode = microcode
    }

    init(raw: UInt64) {
        bootloader = UInt8(raw & 0xFF)
        tee = UInt8(raw >> 8 & 0xFF)
        snp = UInt8(raw >> 48 & 0xFF)
        microcode = UInt8(raw >> 56 & 0xFF)
    }

    /// Every component at least that of `floor`.
    public func isAtLeast(_ floor: SNPTCBVersion) -> Bool {
        bootloader >= floor.bootloader && tee >= floor.tee && snp >= floor.snp && microcode >= floor.microcode
    }

    public var description: String { "bootloader \(bootloader), tee \(tee), snp \(snp), microcode \(microcode)" }
}
