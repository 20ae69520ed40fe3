import ConfidentialInference
import Foundation
import Testing

/// Key rotation in the gateway: the new key is published first, the previous one is accepted for its grace
/// period and then refused with RFC 9458's key-mismatch error; and the durations the command line accepts.
@Suite struct GatewayKeyRotationTests {
    @Test func thePreviousKeyIsAcceptedForItsGracePeriodThenRefusedWithTheKeyError() throws {
        let gateway = ObliviousHTTPGateway()
        let old = gateway.configurations[0]
        let rotatedAt = Date(timeIntervalSince1970: 1_800_000_000)
        let next = gateway.nextKey()
        #expect(next.configuration.keyID == old.keyID &+ 1)
        gateway.rotate(to: next, keepingPreviousFor: 10, at: rotatedAt)

        #expect(gateway.configurations(at: rotatedAt.addingTimeInterval(9.9)).map(\.keyID) == [next.configuration.keyID, old.keyID])
        #expect(gateway.configurations(at: rotatedAt.addingTimeInterval(10)).map(\.keyID) == [next.configuration.keyID])
        let toOld = try ObliviousRequest(request: Array("to the old key".utf8), configuration: old)
        #expect(try gateway.open(toOld.encapsulated, at: rotatedAt.addingTimeInterval(9.9)).request == Array("to the old key".utf8))
        #expect(throws: ObliviousHTTPGateway.Refusal.keyConfigurationMismatch) {
            _ = try gateway.open(toOld.encapsulated, at: rotatedAt.addingTimeInterval(10))
        }
        let toNew = try ObliviousRequest(request: Array("to the new key".utf8), configuration: next.configuration)
        #expect(try gateway.open(toNew.encapsulated, at: rotatedAt.addingTimeInterval(10)).request == Array("to the new key".utf8))

        // Without a grace period the previous key lasts until the next rotation, which drops it whatever its grace.
        let third = gateway.nextKey()
        gateway.rotate(to: third, at: rotatedAt.addingTimeInterval(20))
        #expect(gateway.configurations(at: .distantFuture).map(\.keyID) == [third.configuration.keyID, next.configuration.keyID])
        #expect(throws: ObliviousHTTPGateway.Refusal.keyConfigurationMismatch) {
            _ = try gateway.open(toOld.encapsulated, at: rotatedAt.addingTimeInterval(21))
        }
    }

    @Test func durationsAndTheirLimits() throws {
        #expect(try GatewayKeyRotation.duration("500ms", option: "--x") == .milliseconds(500))
        #expect(try GatewayKeyRotation.duration("90s", option: "--x") == .seconds(90))
        #expect(try GatewayKeyRotation.duration("10m", option: "--x") == .seconds(600))
        #expect(try GatewayKeyRotation.duration("12h", option: "--x") == .seconds(43_200))
        #expect(try GatewayKeyRotation.duration("1d", option: "--x") == .seconds(86_400))
        for bad in ["", "10", "-5s", "0s", "1.5h", "s", "10 m", "99999999999999999d"] {
            #expect(throws: ConfidentialInferenceError.self, "\(bad)") { _ = try GatewayKeyRotation.duration(bad, option: "--x") }
        }
        #expect(throws: ConfidentialInferenceError.self) { _ = try GatewayKeyRotation(interval: .milliseconds(999), grace: .milliseconds(500)) }
        #expect(throws: ConfidentialInferenceError.self) { _ = try GatewayKeyRotation(interval: .seconds(10), grace: .seconds(11)) }
        #expect(throws: ConfidentialInferenceError.self) { _ = try GatewayKeyRotation(interval: .seconds(10), grace: .zero) }
        #expect(try GatewayKeyRotation(interval: .seconds(10), grace: .seconds(10)).grace == .seconds(10))
    }
}
