/// An error raised by Veil: a stable machine-readable `code` and a human-readable `message`.
///
/// Errors are a struct rather than an ever-growing enum so that new failure kinds can be added
/// without breaking callers that switch over them. Compare `code` to the static members of
/// ``VeilError/Code``.
public struct VeilError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A stable identifier of the kind of failure.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A parameter is outside its allowed range (ε ≤ 0, δ ∉ (0, 1), negative sensitivity, …).
        public static let invalidParameter = Code(rawValue: "invalid_parameter")
        /// The operation is not supported for this input (e.g. an event an accountant cannot analyse).
        public static let unsupported = Code(rawValue: "unsupported")
        /// A numerical procedure did not reach the required accuracy.
        public static let numerical = Code(rawValue: "numerical")
        /// Input data (a file, a JSON document) could not be read or is malformed.
        public static let invalidInput = Code(rawValue: "invalid_input")
        /// A stateful mechanism has used up what it may answer (e.g. sparse vector after `c` positives).
        public static let exhausted = Code(rawValue: "exhausted")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }

    /// An `invalidParameter` error naming the parameter, the value received and the allowed range.
    public static func invalidParameter(_ name: String, _ value: CustomStringConvertible, allowed: String) -> VeilError {
        VeilError(.invalidParameter, "\(name) must be \(allowed), got \(value)")
    }
}

// MARK: - Parameter checks

/// Parameter validation shared by mechanisms and accountants. Each check throws a
/// ``VeilError`` whose message names the parameter and the allowed range.
public enum ParameterCheck {
    /// ε must be finite and > 0.
    public static func epsilon(_ value: Double, name: String = "epsilon") throws {
        guard value.isFinite, value > 0 else {
            throw VeilError.invalidParameter(name, value, allowed: "a finite number > 0")
        }
    }

    /// δ must lie in the open interval (0, 1).
    public static func delta(_ value: Double, name: String = "delta") throws {
        guard value.isFinite, value > 0, value < 1 else {
            throw VeilError.invalidParameter(name, value, allowed: "in the open interval (0, 1)")
        }
    }

    /// δ must lie in [0, 1).
    public static func deltaOrZero(_ value: Double, name: String = "delta") throws {
        guard value.isFinite, value >= 0, value < 1 else {
            throw VeilError.invalidParameter(name, value, allowed: "in the interval [0, 1)")
        }
    }

    /// A sensitivity must be finite and > 0.
    public static func sensitivity(_ value: Double, name: String = "sensitivity") throws {
        guard value.isFinite, value > 0 else {
            throw VeilError.invalidParameter(name, value, allowed: "a finite number > 0")
        }
    }

    /// A probability must lie in [0, 1].
    public static func probability(_ value: Double, name: String) throws {
        guard value.isFinite, value >= 0, value <= 1 else {
            throw VeilError.invalidParameter(name, value, allowed: "in the interval [0, 1]")
        }
    }

    /// A scale (noise multiplier, σ, Laplace scale) must be finite and > 0.
    public static func positive(_ value: Double, name: String) throws {
        guard value.isFinite, value > 0 else {
            throw VeilError.invalidParameter(name, value, allowed: "a finite number > 0")
        }
    }
}

// MARK: - Mechanism parameter checks

extension ParameterCheck {
    /// A confidence level must lie in the open interval (0, 1).
    public static func confidenceLevel(_ value: Double, name: String = "confidence_level") throws {
        guard value.isFinite, value > 0, value < 1 else {
            throw VeilError.invalidParameter(name, value, allowed: "in the open interval (0, 1)")
        }
    }

    /// An integer sensitivity must be ≥ 1.
    public static func integerSensitivity(_ value: Int, name: String = "sensitivity") throws {
        guard value >= 1 else {
            throw VeilError.invalidParameter(name, value, allowed: "an integer ≥ 1")
        }
    }

    /// A count (of candidates, categories, positives) must be at least `minimum`.
    public static func count(_ value: Int, name: String, minimum: Int) throws {
        guard value >= minimum else {
            throw VeilError.invalidParameter(name, value, allowed: "an integer ≥ \(minimum)")
        }
    }
}
