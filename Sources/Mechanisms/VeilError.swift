/// An error raised by Veil: a stable machine-readable `code`, a human-readable one-line `message`, and the
/// underlying error it was raised for, if any (`cause`).
///
/// Errors are a struct rather than an ever-growing enum so that new failure kinds can be added
/// without breaking callers that switch over them. Compare `code` to the static members of
/// ``VeilError/Code``. Every code declares its ``Category`` where it is declared, so how a front end
/// reports it (`veil`'s exit code) follows from the code alone.
public struct VeilError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of failure a code names: the one thing a front end needs to report it.
    public enum Category: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// The caller's input is wrong (a flag, a parameter, a file, a query, a name): fix it and retry.
        case badInput = "bad_input"
        /// A privacy budget refused the charge: nothing was read or released.
        case budgetRefused = "budget_refused"
        /// Something failed that the input does not explain (a damaged ledger, a full disk, a database fault).
        case failure

        /// `veil`'s exit code: 2 for bad input, 3 for a refused budget, 1 for a failure (0 is success).
        public var exitCode: Int32 {
            switch self {
            case .failure: 1
            case .badInput: 2
            case .budgetRefused: 3
            }
        }

        public var description: String { rawValue }
    }

    /// A stable identifier of the kind of failure, with its ``Category``.
    ///
    /// Modules declare their own codes as `extension VeilError.Code { public static let … }`; the
    /// initializer takes the category, so no code exists without one.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The identifier, e.g. `invalid_parameter`.
        public let rawValue: String
        /// How the failure is reported.
        public let category: Category

        /// A code named `rawValue` in `category`.
        public init(_ rawValue: String, category: Category) {
            self.rawValue = rawValue
            self.category = category
        }

        public var description: String { rawValue }

        /// A parameter is outside its allowed range (ε ≤ 0, δ ∉ (0, 1), negative sensitivity, …).
        public static let invalidParameter = Code("invalid_parameter", category: .badInput)
        /// The operation is not supported for this input (e.g. an event an accountant cannot analyse).
        public static let unsupported = Code("unsupported", category: .badInput)
        /// A numerical procedure did not reach the required accuracy.
        public static let numerical = Code("numerical", category: .failure)
        /// Input data (a file, a JSON document) could not be read or is malformed.
        public static let invalidInput = Code("invalid_input", category: .badInput)
        /// A stateful mechanism has used up what it may answer (e.g. sparse vector after `c` positives).
        public static let exhausted = Code("exhausted", category: .failure)
    }

    public let code: Code
    public let message: String
    /// The error this one was raised for (a database error, a parser's error, a file system error), kept as it
    /// was thrown; `nil` when Veil itself detected the problem.
    public let cause: (any Error)?

    /// An error with `code` and a one-line `message`, raised because of `cause` if given.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String { message }

    /// Two errors are equal when their codes and messages are; causes are not compared.
    public static func == (lhs: VeilError, rhs: VeilError) -> Bool {
        lhs.code == rhs.code && lhs.message == rhs.message
    }

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
