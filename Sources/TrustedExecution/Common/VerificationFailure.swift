/// A failed step inside a verifier; becomes a failed ``VerificationCheck`` with this message.
struct VerificationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
