import Yams

/// Reads YAML written by someone else (pipeline files, privacy metadata, attestation policies, service
/// configurations) without letting the document crash or stall the process.
///
/// Yams alone has several ways to fail badly on a hostile or mistyped document:
/// - it composes by recursion, so deep nesting overflows the stack (checked first by ``YAMLNestingCheck``);
/// - `Yams.load` force-unwraps every mapping key as a string, so a key that is itself a list or a mapping
///   (`? [a]: b`, `{[a]: b}`) stops the process with a fatal error;
/// - it reads a plain scalar with colons as a base-60 integer (`1:30` is 90) with unchecked arithmetic, so
///   `1:0:0:0:0:0:0:0:0:0:0` stops the process when any reader asks for an integer (`Node.int`,
///   `YAMLDecoder`, `load`), whatever the scalar's tag;
/// - aliases share nodes, so a few lines of anchors (`b: &b [*a, *a, …]`, the "billion laughs" document)
///   describe a tree exponentially larger than the text, which `load` and any reader that walks the tree
///   would build or visit in full; a long scalar repeated that way costs its length at every copy;
/// - merging (`<<`) removes each merge key from an array, so a mapping of many merge keys takes quadratic
///   time, and `YAMLDecoder` looks every key up by a scan of its mapping, so a mapping of many entries does too.
/// ``compose(_:limits:)`` refuses all of these with a ``YAMLShapeError`` naming the line, before any of it is
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
    /// runs out, so a small document that expands to a huge tree costs no more than the budget. Every value costs
    /// one, and a scalar (a key too) one more per 32 bytes of its text, so that long scalars repeated through
    /// aliases are bounded by their size. The recursion is as deep as the nesting, which ``YAMLNestingCheck``
    /// has already bounded.
    private static func check(_ node: Node, budget: inout Int, limits: YAMLLimits) throws {
        func spend(_ cost: Int, at mark: Mark?) throws {
            budget -= cost
            guard budget >= 0 else {
                throw YAMLShapeError(.tooLarge, line: mark?.line,
                                     "the YAML expands to more than \(limits.expandedNodes) values once its aliases "
                                     + "(*name) are replaced by what they name (a long text counts one per 32 bytes)")
            }
        }
        switch node {
        case .scalar(let scalar):
            try checkScalar(scalar, spend: spend)
        case .sequence(let sequence):
            try spend(1, at: node.mark)
            for element in sequence { try check(element, budget: &budget, limits: limits) }
        case .mapping(let mapping):
            try spend(1, at: node.mark)
            guard mapping.count <= limits.mappingEntries else {
                throw YAMLShapeError(.tooManyEntries, line: node.mark?.line,
                                     "a mapping has \(mapping.count) entries, more than \(limits.mappingEntries)")
            }
            var merges = 0
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw YAMLShapeError(.nonScalarKey, line: key.mark?.line ?? node.mark?.line,
                                         "a mapping key is a list or a mapping; keys must be plain names")
                }
                if key.tag.description == Tag.Name.merge.rawValue {
                    merges += 1
                    guard merges <= 1 else {
                        throw YAMLShapeError(.repeatedMerge, line: key.mark?.line,
                                             "a mapping has more than one merge key (<<); list what it merges instead")
                    }
                }
                try checkScalar(keyScalar, spend: spend)
                try check(value, budget: &budget, limits: limits)
            }
        }
    }

    private static func checkScalar(_ scalar: Node.Scalar, spend: (Int, Mark?) throws -> Void) throws {
        try spend(1 + scalar.string.utf8.count / 32, scalar.mark)
        guard scalar.style == .plain || scalar.style == .any, Base60.trapsYams(scalar.string) else { return }
        throw YAMLShapeError(.numberOutOfRange, line: scalar.mark?.line,
                             "\(scalar.string.prefix(40)) reads as a base-60 integer (as 1:30 is 90) beyond 64 bits; "
                             + "quote it if it is text")
    }
}

/// Yams' reading of plain scalars with colons as base-60 integers, to find those its unchecked arithmetic would
/// trap on.
enum Base60 {
    /// Whether Yams, asked for an `Int` or a `UInt` from this plain scalar, would overflow (and stop the
    /// process). Yams removes underscores, takes an optional sign, leaves `0`-prefixed text to its radix forms,
    /// and for text with a colon folds the decimal components that parse (the others are skipped), last first:
    /// `value += component × base; base ×= 60`, the last multiplication included.
    static func trapsYams(_ text: String) -> Bool {
        guard text.contains(":") else { return false }
        var digits = Substring(text.replacingOccurrences(of: "_", with: ""))
        if digits.hasPrefix("-") || digits.hasPrefix("+") { digits = digits.dropFirst() }
        guard !digits.hasPrefix("0"), digits.contains(":") else { return false }
        let components = digits.split(separator: ":", omittingEmptySubsequences: false).reversed()
        return overflows(Int.self, components) || overflows(UInt.self, components)
    }

    private static func overflows<T: FixedWidthInteger, C: Sequence<Substring>>(_: T.Type, _ components: C) -> Bool {
        var base: T = 1
        var value: T = 0
        for component in components {
            guard let digit = T(component, radix: 10) else { continue }
            let (product, o1) = digit.multipliedReportingOverflow(by: base)
            let (sum, o2) = value.addingReportingOverflow(product)
            let (next, o3) = base.multipliedReportingOverflow(by: 60)
            if o1 || o2 || o3 { return true }
            value = sum
            base = next
        }
        // The sign is applied last, as a multiplication by −1 (or 1).
        return T.isSigned && value == T.min
    }
}

/// How much of a YAML document ``CheckedYAML`` accepts.
public struct YAMLLimits: Sendable {
    /// The deepest nesting of lists and mappings.
    public var nesting: Int
    /// The most values (scalars, lists and mappings) in the tree once aliases are expanded, a scalar counting
    /// one more per 32 bytes of its text.
    public var expandedNodes: Int
    /// The most entries in one mapping.
    public var mappingEntries: Int

    /// Defaults fit every Veil configuration format with a wide margin: 32 levels, 2^18 values (a pipeline holds
    /// about a hundred; the walk that counts them costs at most a few milliseconds), 10,000 entries in a mapping (a
    /// table has at most 2,000 columns).
    public init(nesting: Int = 32, expandedNodes: Int = 1 << 18, mappingEntries: Int = 10_000) {
        self.nesting = nesting
        self.expandedNodes = expandedNodes
        self.mappingEntries = mappingEntries
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
        /// A plain scalar that Yams would read as a base-60 integer beyond 64 bits.
        case numberOutOfRange
        /// More than one merge key (`<<`) in a mapping.
        case repeatedMerge
        /// More than ``YAMLLimits/mappingEntries`` entries in one mapping.
        case tooManyEntries
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
