/// An Intel TDX DCAP quote, version 4, parsed field by field.
///
/// Layout: Intel TDX DCAP Quoting Library API, Appendix A.3 ("Version 4 Quote Format"): a 48-byte
/// header, a 584-byte TD report body, a 4-byte signature-data length and the signature data — an
/// ECDSA-P256 signature over header ‖ body by the attestation key, that key (x ‖ y), and certification data
/// of type 6 (QE report certification data: the QE's 384-byte SGX report, its signature by the PCK, the QE
/// authentication data, and nested certification data of type 5, the PEM PCK certificate chain).
public struct TDXQuote: Sendable {
    /// Upper bound on a quote's size; real quotes are about 5 KB (the PEM chain dominates).
    public static let maximumSize = 64 * 1024
    public static let headerSize = 48
    public static let bodySize = 584
    /// TEE type of TDX in the quote header.
    public static let teeTypeTDX: UInt32 = 0x81
    /// Attestation key type 2: ECDSA-256-with-P-256.
    public static let attestationKeyTypeECDSAP256: UInt16 = 2

    // MARK: Header (A.3.1)
    public let version: UInt16
    public let attestationKeyType: UInt16
    public let teeType: UInt32
    public let qeSVN: UInt16
    public let pceSVN: UInt16
    public let qeVendorID: [UInt8]
    public let userData: [UInt8]

    // MARK: TD report body (A.3.2)
    public let teeTCBSVN: [UInt8]
    public let mrSeam: [UInt8]
    public let mrSignerSeam: [UInt8]
    public let seamAttributes: [UInt8]
    public let tdAttributes: [UInt8]
    public let xfam: [UInt8]
    public let mrTD: [UInt8]
    public let mrConfigID: [UInt8]
    public let mrOwner: [UInt8]
    public let mrOwnerConfig: [UInt8]
    /// RTMR0 … RTMR3.
    public let rtmrs: [[UInt8]]
    public let reportData: [UInt8]

    // MARK: Signature data (A.3.7–A.3.11)
    /// ECDSA-P256 signature (r ‖ s, big-endian) over ``signedBytes``.
    public let quoteSignature: [UInt8]
    /// The attestation public key, x ‖ y.
    public let attestationKey: [UInt8]
    /// The QE's SGX report body (384 bytes).
    public let qeReport: SGXReportBody
    public let qeReportRaw: [UInt8]
    /// ECDSA-P256 signature (r ‖ s) over ``qeReportRaw`` by the PCK.
    public let qeReportSignature: [UInt8]
    public let qeAuthenticationData: [UInt8]
    /// The PEM PCK certificate chain (leaf, Platform/Processor CA, root) from certification data type 5.
    public let pckChainPEM: String

    /// Bytes after the declared signature data (ignored; some test quotes carry a trailer).
    public let trailingByteCount: Int

    /// Header ‖ TD report body: the bytes the attestation key signs.
    public let signedBytes: [UInt8]

    /// TD attributes bit 0: the TD runs in debug mode (its memory is readable by the host).
    public var debugEnabled: Bool { tdAttributes[0] & 0x01 != 0 }

    /// Parses a v4 TDX quote.
    /// - Throws: ``TrustedExecutionError`` with code `invalidInput` naming the field that is truncated,
    ///   oversized, of an unknown version, of the wrong TEE type or an unsupported certification data type.
    public init(bytes: [UInt8]) throws {
        guard bytes.count <= Self.maximumSize else {
            throw TrustedExecutionError.invalid("TDX quote is \(bytes.count) bytes; at most \(Self.maximumSize) accepted")
        }
        var r = LittleEndianReader(bytes, structure: "TDX quote")
        version = try r.uint16("header.version")
        guard version == 4 else {
            throw TrustedExecutionError.invalid("TDX quote header.version is \(version); only version 4 is supported")
        }
        attestationKeyType = try r.uint16("header.attestation_key_type")
        guard attestationKeyType == Self.attestationKeyTypeECDSAP256 else {
            throw TrustedExecutionError.invalid(
                "TDX quote header.attestation_key_type is \(attestationKeyType); only 2 (ECDSA-256-with-P-256) is supported")
        }
        teeType = try r.uint32("header.tee_type")
        guard teeType == Self.teeTypeTDX else {
            throw TrustedExecutionError.invalid(
                "TDX quote header.tee_type is 0x\(String(teeType, radix: 16)); expected 0x81 (TDX)")
        }
        qeSVN = try r.uint16("header.qe_svn")
        pceSVN = try r.uint16("header.pce_svn")
        qeVendorID = try r.bytes(16, field: "header.qe_vendor_id")
        userData = try r.bytes(20, field: "header.user_data")

        teeTCBSVN = try r.bytes(16, field: "body.tee_tcb_svn")
        mrSeam = try r.bytes(48, field: "body.mrseam")
        mrSignerSeam = try r.bytes(48, field: "body.mrsignerseam")
        seamAttributes = try r.bytes(8, field: "body.seam_attributes")
        tdAttributes = try r.bytes(8, field: "body.td_attributes")
        xfam = try r.bytes(8, field: "body.xfam")
        mrTD = try r.bytes(48, field: "body.mrtd")
        mrConfigID = try r.bytes(48, field: "body.mrconfigid")
        mrOwner = try r.bytes(48, field: "body.mrowner")
        mrOwnerConfig = try r.bytes(48, field: "body.mrownerconfig")
        var rtmrs: [[UInt8]] = []
        for i in 0..<4 { rtmrs.append(try r.bytes(48, field: "body.rtmr\(i)")) }
        self.rtmrs = rtmrs
        reportData = try r.bytes(64, field: "body.report_data")
        signedBytes = Array(bytes[0..<(Self.headerSize + Self.bodySize)])

        let signatureDataLength = Int(try r.uint32("signature_data_length"))
        guard signatureDataLength <= r.remaining else {
            throw TrustedExecutionError.invalid(
                "TDX quote is truncated: signature_data_length is \(signatureDataLength) but \(r.remaining) bytes follow")
        }
        // Bytes after the declared signature data are not part of the quote (and not signed): they are
        // ignored and counted, never read.
        trailingByteCount = r.remaining - signatureDataLength
        r = LittleEndianReader(Array(bytes[0..<(r.offset + signatureDataLength)]), structure: "TDX quote", offset: r.offset)
        quoteSignature = try r.bytes(64, field: "signature_data.quote_signature")
        attestationKey = try r.bytes(64, field: "signature_data.attestation_key")
        let certType = try r.uint16("certification_data.type")
        guard certType == 6 else {
            throw TrustedExecutionError.invalid(
                "TDX quote certification_data.type is \(certType); expected 6 (QE report certification data)")
        }
        let certSize = Int(try r.uint32("certification_data.size"))
        guard certSize == r.remaining else {
            throw TrustedExecutionError.invalid(
                "TDX quote certification_data.size is \(certSize) but \(r.remaining) bytes follow")
        }
        qeReportRaw = try r.bytes(SGXReportBody.size, field: "qe_report")
        qeReport = try SGXReportBody(bytes: qeReportRaw)
        qeReportSignature = try r.bytes(64, field: "qe_report_signature")
        let authSize = Int(try r.uint16("qe_authentication_data.size"))
        qeAuthenticationData = try r.bytes(authSize, field: "qe_authentication_data")
        let innerType = try r.uint16("pck_certification_data.type")
        guard innerType == 5 else {
            throw TrustedExecutionError.invalid(
                "TDX quote pck_certification_data.type is \(innerType); expected 5 (PEM PCK certificate chain)")
        }
        let innerSize = Int(try r.uint32("pck_certification_data.size"))
        guard innerSize == r.remaining else {
            throw TrustedExecutionError.invalid(
                "TDX quote pck_certification_data.size is \(innerSize) but \(r.remaining) bytes follow")
        }
        let pem = try r.bytes(innerSize, field: "pck_certification_data")
        // The PCS pads the chain with a trailing NUL.
        pckChainPEM = String(decoding: pem.prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// An SGX enclave report body (384 bytes): here, the TD quoting enclave's report inside a TDX quote.
///
/// Layout: Intel SGX Developer Reference, `sgx_report_body_t`; reproduced in the DCAP quote format,
/// Appendix A.3.10 ("Enclave Report Body").
public struct SGXReportBody: Sendable {
    public static let size = 384
    public let cpuSVN: [UInt8]
    public let miscSelect: UInt32
    public let attributes: [UInt8]
    public let mrEnclave: [UInt8]
    public let mrSigner: [UInt8]
    public let isvProdID: UInt16
    public let isvSVN: UInt16
    public let reportData: [UInt8]

    init(bytes: [UInt8]) throws {
        var r = LittleEndianReader(bytes, structure: "QE report")
        cpuSVN = try r.bytes(16, field: "cpu_svn")
        miscSelect = try r.uint32("misc_select")
        _ = try r.bytes(28, field: "reserved1")
        attributes = try r.bytes(16, field: "attributes")
        mrEnclave = try r.bytes(32, field: "mr_enclave")
        _ = try r.bytes(32, field: "reserved2")
        mrSigner = try r.bytes(32, field: "mr_signer")
        _ = try r.bytes(96, field: "reserved3")
        isvProdID = try r.uint16("isv_prod_id")
        isvSVN = try r.uint16("isv_svn")
        _ = try r.bytes(60, field: "reserved4")
        reportData = try r.bytes(64, field: "report_data")
    }
}
