import Testing
@testable import TrustedExecution

@Suite struct AttestationPolicyTests {
    @Test func readsEveryKey() throws {
        let policy = try AttestationPolicy(yaml: """
        tee: sev-snp
        measurement: "\(String(repeating: "ab", count: 48))"
        allow_debug: true
        minimum_tcb: {bootloader: 2, tee: 0, snp: 5, microcode: 68}
        max_vmpl: 1
        product: Milan
        report_data: "\(String(repeating: "00", count: 64))"
        """)
        #expect(policy.tee == .sevSNP)
        #expect(policy.measurement == [UInt8](repeating: 0xAB, count: 48))
        #expect(policy.allowDebug)
        #expect(policy.minimumTCB == SNPTCBVersion(bootloader: 2, tee: 0, snp: 5, microcode: 68))
        #expect(policy.maxVMPL == 1)
        #expect(policy.product == "Milan")
        #expect(policy.reportData?.count == 64)
        #expect(policy.acceptedTCBStatuses == ["UpToDate"])
        #expect(policy.requireCollateral)
    }

    @Test func unknownKeysAndBadValuesNameTheField() {
        #expect(throws: TrustedExecutionError.invalid("policy: unknown key 'allow_debugging'")) {
            try AttestationPolicy(yaml: "tee: tdx\nallow_debugging: true\n")
        }
        #expect(throws: TrustedExecutionError.invalid("policy: unknown key 'minimum_tcb.fmc'")) {
            try AttestationPolicy(yaml: "tee: sev-snp\nminimum_tcb: {fmc: 1}\n")
        }
        #expect(throws: TrustedExecutionError.invalid("policy: 'tee' is required (tdx, sev-snp or simulated)")) {
            try AttestationPolicy(yaml: "allow_debug: false\n")
        }
        #expect(throws: TrustedExecutionError.invalid("policy: tee 'sgx' is not one of tdx, sev-snp, simulated")) {
            try AttestationPolicy(yaml: "tee: sgx\n")
        }
        #expect(throws: TrustedExecutionError.invalid("policy: measurement must be 48 bytes, got 2")) {
            try AttestationPolicy(yaml: "tee: tdx\nmeasurement: \"abcd\"\n")
        }
        #expect(throws: TrustedExecutionError.invalid("policy: allow_debug must be true or false")) {
            try AttestationPolicy(yaml: "tee: tdx\nallow_debug: maybe\n")
        }
        let structuredKey = "policy: not valid YAML (line 2: a mapping key is a list or a mapping; keys must be plain names)"
        #expect(throws: TrustedExecutionError.invalid(structuredKey)) {
            try AttestationPolicy(yaml: "tee: tdx\n? [measurement]\n: abcd\n")
        }
    }
}
