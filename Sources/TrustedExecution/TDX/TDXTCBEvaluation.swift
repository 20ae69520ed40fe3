/// TCB level matching for TDX: the platform's level in the TCB info, and the quoting enclave's level in
/// the QE identity.
///
/// Source: Intel DCAP Quote Verification Library, TCB status evaluation for TDX (TCB info version 3): the
/// first level (levels are sorted from newest to oldest) whose SGX TCB components and PCESVN are all ≤ the
/// PCK certificate's and whose TDX TCB components are all ≤ the TD report's TEE_TCB_SVN. When
/// TEE_TCB_SVN[1] (the TDX module's major version) is non-zero, its first two bytes are judged through the
/// TCB info's `tdxModuleIdentities`, which this verifier does not evaluate: such quotes are refused.
enum TDXTCBEvaluation {
    /// The status of a platform below every level of the TCB info (Intel's QVL: `STATUS_TCB_NOT_SUPPORTED`
    /// / unrecognized). Never accepted unless a policy lists it.
    static let unrecognized = "Unrecognized"

    /// The platform's TCB status and the date of the matching level (`nil` when no level matches).
    static func platformStatus(_ info: TDXTCBInfo, pck: PCKCertificateExtensions, teeTCBSVN: [UInt8]) throws -> (status: String, date: String?) {
        guard teeTCBSVN[1] == 0 else {
            throw VerificationFailure("TEE_TCB_SVN[1] = \(teeTCBSVN[1]): TDX module identities are not evaluated by this verifier")
        }
        for level in info.tcbLevels {
            let sgx = level.tcb.sgxtcbcomponents.map(\.svn)
            let tdx = level.tcb.tdxtcbcomponents.map(\.svn)
            guard sgx.count == 16, tdx.count == 16 else {
                throw VerificationFailure("TCB info level of \(level.tcbDate) does not have 16 SGX and 16 TDX components")
            }
            if zip(sgx, pck.sgxTCBComponents).allSatisfy({ $0 <= $1 }), level.tcb.pcesvn <= pck.pceSVN,
               zip(tdx, teeTCBSVN).allSatisfy({ $0 <= Int($1) }) {
                return (level.tcbStatus, level.tcbDate)
            }
        }
        return (unrecognized, nil)
    }

    static func quotingEnclaveStatus(_ identity: QEIdentity, report: SGXReportBody) throws -> String {
        let misc = try Hex.decode(identity.miscselect, field: "QE identity miscselect")
        let miscMask = try Hex.decode(identity.miscselectMask, field: "QE identity miscselectMask")
        guard misc.count == 4, miscMask.count == 4 else { throw VerificationFailure("QE identity miscselect is not 4 bytes") }
        // The identity writes MISCSELECT as a big-endian hex number.
        let miscValue = misc.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let maskValue = miscMask.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        guard report.miscSelect & maskValue == miscValue else {
            throw VerificationFailure("QE MISCSELECT does not match the QE identity")
        }
        let attributes = try Hex.decode(identity.attributes, field: "QE identity attributes")
        let mask = try Hex.decode(identity.attributesMask, field: "QE identity attributesMask")
        guard attributes.count == 16, mask.count == 16, zip(report.attributes, mask).map({ $0 & $1 }) == attributes else {
            throw VerificationFailure("QE attributes do not match the QE identity under its mask")
        }
        guard try Hex.decode(identity.mrsigner, field: "QE identity mrsigner") == report.mrSigner else {
            throw VerificationFailure("QE MRSIGNER is not the QE identity's")
        }
        guard Int(report.isvProdID) == identity.isvprodid else {
            throw VerificationFailure("QE ISVPRODID \(report.isvProdID) is not the QE identity's \(identity.isvprodid)")
        }
        for level in identity.tcbLevels where level.tcb.isvsvn <= Int(report.isvSVN) {
            return level.tcbStatus
        }
        throw VerificationFailure("QE ISVSVN \(report.isvSVN) is below every level of the QE identity")
    }
}
