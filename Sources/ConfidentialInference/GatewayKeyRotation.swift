import Foundation

/// Timed key rotation in a running gateway (RFC 9458 §3 leaves the schedule to the gateway): every `interval` a fresh
/// X25519 key becomes current and is published first; the previous key stays accepted for `grace`, after which
/// requests sealed to it are refused with the RFC's key-mismatch error (422, `ohttp-key`), so clients fetch the new
/// configuration. Compromise of a key then exposes at most `interval + grace` of traffic.
public struct GatewayKeyRotation: Sendable {
    public let interval: Duration
    public let grace: Duration

    /// - Throws: `invalidInput` unless `interval` is at least one second and `grace` is positive and at most
    ///   `interval` (the previous key is dropped at the next rotation whatever the grace).
    public init(interval: Duration, grace: Duration) throws {
        guard interval >= .seconds(1) else { throw ConfidentialInferenceError.invalid("the key rotation interval must be at least 1 s") }
        guard grace > .zero, grace <= interval else {
            throw ConfidentialInferenceError.invalid("the key grace period must be positive and at most the rotation interval")
        }
        self.interval = interval
        self.grace = grace
    }

    /// Rotates `gateway`'s key every ``interval`` until the returned task is cancelled. `persist` receives each new
    /// key before it becomes current (to seal it); when it throws, the rotation is skipped and `report` gets one line
    /// that names the failure (never a key).
    public func start(_ gateway: ObliviousHTTPGateway, persist: @escaping @Sendable (ObliviousHTTPGateway.Key) throws -> Void,
                      report: @escaping @Sendable (String) -> Void) -> Task<Void, Never> {
        let interval = self.interval
        let grace = Double(grace.components.seconds) + Double(grace.components.attoseconds) * 1e-18
        return Task.detached {
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { return }
                let next = gateway.nextKey()
                do { try persist(next) } catch {
                    report("key rotation skipped: \(error)")
                    continue
                }
                gateway.rotate(to: next, keepingPreviousFor: grace)
                report("key rotation: key \(next.configuration.keyID) is current; key \(next.configuration.keyID &- 1) accepted for \(grace) s more")
            }
        }
    }

    /// Parses a duration such as `500ms`, `90s`, `10m`, `12h` or `1d`.
    /// - Throws: `invalidInput` naming `option` for anything else.
    public static func duration(_ text: String, option: String) throws -> Duration {
        let units: [(suffix: String, milliseconds: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            guard let value = Int64(number), value > 0, value <= Int64.max / unit.milliseconds else { break }
            return .milliseconds(value * unit.milliseconds)
        }
        throw ConfidentialInferenceError.invalid("\(option) '\(text)' is not a duration such as 90s, 10m or 12h")
    }
}
