import Yams

/// Reads YAML written by someone else (pipeline files, privacy metadata, attestation policies, service
/// configurations) without letting the document crash or stall the process.
///
/// Yams alone has three ways to fail badly on a hostile or mistyped document:
/// - it composes by recursion, so deep nesting overflows the stack (checked first by ``YAMLNestingCheck``);
/// - `Yams.load` force-unwraps every mapping key as a string, so a key that is itself a list or a mapping
///   (`? [a]: b`, `{[a]: b}`) stops the process with a fatal error;
/// - aliases share nodes, so a few lines of anchors (`b: &b [*a, *a, …]`, the "billion laughs" document)
///   describe a tree exponentially larger than the text, which `load` and any reader that walks the tree
///   would build or visit in full.
/// ``compose(_:limits:)`` refuses all three with a ``YAMLShapeError`` naming the line, before any of it is
/// built, and ``load(_:limits:)`` constructs Swift values only from a document that passed.
public enum CheckedYAML {
    /// Composes `text` into a node tree (`nil` for an empty document).
    /// - Throws: ``YAMLShapeError`` for a document beyond `limits` or with a non-scalar mapping key;
    ///   Yams' own error (naming the line and column) for a document that is not YAML.
    public static func compose(_ text: String, limits: YAMLLimits = YAMLLimits()) throws -> Node? {
        _ = try YAMLNestingCheck(limit: limits.nesting).depth(of: text)
        guard let root = try Yams.compose(yaml: text) else { return nil }
        var budget = limits.expandedNodes
        try check(root, budget: &budget, limits: limits)
        return root
    }

    /// Composes `text` as ``compose(_:limits:)`` does, then constructs its Swift values as `Yams.load` does
    /// (mappings as `[AnyHashable: Any]` with `String` keys, integers, doubles, booleans, strings, `NSNull`).
    public static func load(_ text: String, limits: YAMLLimits = YAMLLimits()) throws -> Any? {
        try compose(text, limits: limits).map { Constructor.default.any(from: $0) }
    }

    /// Visits the tree as a reader would see it, with every alias expanded, and stops as soon as the budget
    /// of nodes runs out, so a small document that expands to a huge tree costs no more than the budget.
    /// The recursion is as deep as the nesting, which ``YAMLNestingCheck`` has already bounded.
    private static func check(_ node: Node, budget: inout Int, limits: YAMLLimits) throws {
        budget -= 1
        guard budget >= 0 else {
            throw YAMLShapeError(.tooLarge, line: node.mark?.line,
                                 "the YAML expands to more than \(limits.expandedNodes) values once its aliases "
                                 + "(*name) are replaced by what they name")
        }
        switch node {
        case .scalar:
            return
        case .sequence(let sequence):
            for element in sequence { try check(element, budget: &budget, limits: limits) }
        case .mapping(let mapping):
            for (key, value) in mapping {
                guard case .scalar = key else {
                    throw YAMLShapeError(.nonScalarKey, line: key.mark?.line ?? node.mark?.line,
                                         "a mapping key is a list or a mapping; keys must be plain names")
                }
                try check(value, budget: &budget, limits: limits)
            }
        }
    }
}

/// How much of a YAML document ``CheckedYAML`` accepts.
public struct YAMLLimits: Sendable {
    /// The deepest nesting of lists and mappings.
    public var nesting: Int
    /// The most values (scalars, lists and mappings) in the tree once aliases are expanded.
    public var expandedNodes: Int

    /// Defaults fit every Veil configuration format with a wide margin: 32 levels and 2^20 values.
    public init(nesting: Int = 32, expandedNodes: Int = 1 << 20) {
        self.nesting = nesting
        self.expandedNodes = expandedNodes
    }
}

/// A YAML document that is well formed but refused by ``CheckedYAML``.
public struct YAMLShapeError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable {
        /// Nested deeper than ``YAMLLimits/nesting``.
        case tooDeep
        /// More values than ``YAMLLimits/expandedNodes`` once aliases are expanded.
        case tooLarge
        /// A mapping key that is a list or a mapping.
        case nonScalarKey
        /// libyaml could not allocate its parser.
        case parserUnavailable
    }

    public let kind: Kind
    /// The 1-based line the problem was found on, when known.
    public let line: Int?
    /// What is wrong, without the file name or line (callers add both).
    public let problem: String

    init(_ kind: Kind, line: Int?, _ problem: String) {
        self.kind = kind
        self.line = line
        self.problem = problem
    }

    /// `line N: problem`, or the problem alone.
    public var description: String { line.map { "line \($0): \(problem)" } ?? problem }
}
