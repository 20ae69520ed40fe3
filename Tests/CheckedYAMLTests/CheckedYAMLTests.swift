@testable import CheckedYAML
import Foundation
import Testing
import Yams

@Suite("Checked YAML")
struct CheckedYAMLTests {
    /// Documents on which `Yams.load` stops the process (a force-unwrapped key), each refused here instead.
    static let structuredKeys: [(String, String)] = [
        ("flow mapping with a list key", "{[a]: b}"),
        ("explicit block key that is a list", "x: 1\n? - a\n  - b\n: c\n"),
        ("mapping key inside a nested value", "model:\n  layers:\n    {k: v}: 3\n"),
        ("set of mappings", "!!set {? {a: 1}}"),
        ("key under a merge", "base: &b {[x]: 1}\nuse:\n  <<: *b\n"),
    ]

    @Test("a mapping key that is a list or a mapping is refused with its line", arguments: structuredKeys)
    func structuredKey(label: String, text: String) {
        #expect {
            _ = try CheckedYAML.load(text)
        } throws: { error in
            guard let shape = error as? YAMLShapeError else { return false }
            return shape.kind == .nonScalarKey && shape.line != nil && shape.problem.contains("keys must be plain names")
        }
    }

    @Test("anchors that expand to more values than the limit are refused before anything is built")
    func billionLaughs() throws {
        // Ten lines: nine levels of ten aliases each over a list of ten, about 10^10 values.
        var lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
        for level in 1...9 {
            let row = Array(repeating: "*l\(level - 1)", count: 10).joined(separator: ", ")
            lines.append("l\(level): &l\(level) [\(row)]")
        }
        let text = lines.joined(separator: "\n") + "\n"
        let clock = ContinuousClock()
        let start = clock.now
        #expect {
            _ = try CheckedYAML.load(text)
        } throws: { error in
            (error as? YAMLShapeError)?.kind == .tooLarge && "\(error)".contains("more than 262144 values")
        }
        // The walk stops at the budget: 2^18 visits, far from the 10^10 a full expansion would make.
        #expect(clock.now - start < .seconds(30))
        // Its first five levels cost 123,461: the top mapping, its five keys, then 11 + 111 + … + 111,111 values.
        let shallow = lines.prefix(5).joined(separator: "\n") + "\n"
        let loaded = try #require(try CheckedYAML.load(shallow) as? [String: Any])
        #expect((loaded["l4"] as? [Any])?.count == 10)
        // One value less than they need is refused.
        #expect(throws: YAMLShapeError.self) {
            _ = try CheckedYAML.compose(shallow, limits: YAMLLimits(expandedNodes: 123_460))
        }
        #expect(try CheckedYAML.compose(shallow, limits: YAMLLimits(expandedNodes: 123_461)) != nil)
    }

    @Test("the nesting limit counts the levels an alias brings in")
    func nesting() throws {
        let deep = "a: " + String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        #expect {
            _ = try CheckedYAML.compose(deep)
        } throws: { error in
            (error as? YAMLShapeError)?.kind == .tooDeep && "\(error)" == "line 1: the YAML nests more than 32 levels deep"
        }
        let aliased = "a: &a [[[[1]]]]\nb: [[[*a]]]\n"
        #expect(throws: YAMLShapeError.self) { _ = try CheckedYAML.compose(aliased, limits: YAMLLimits(nesting: 7)) }
        #expect(try CheckedYAML.compose(aliased, limits: YAMLLimits(nesting: 8)) != nil)
    }

    @Test("an accepted document loads to the same values as Yams.load, aliases and merges included")
    func sameValues() throws {
        let text = """
            defaults: &d {lr: 0.5, steps: 3}
            run:
              <<: *d
              steps: 7
              name: "mnist"
              layers: [784, 10]
              enabled: true
              nothing: ~
            """
        let checked = try #require(try CheckedYAML.load(text) as? [String: Any])
        let plain = try #require(try Yams.load(yaml: text) as? [String: Any])
        let run = try #require(checked["run"] as? [String: Any])
        #expect(run["lr"] as? Double == 0.5)
        #expect(run["steps"] as? Int == 7)
        #expect(run["name"] as? String == "mnist")
        #expect(run["layers"] as? [Int] == [784, 10])
        #expect(run["enabled"] as? Bool == true)
        #expect(try Yams.dump(object: checked) == Yams.dump(object: plain))
        #expect(try CheckedYAML.load("") == nil)
    }

    @Test("text that is not YAML keeps Yams' own error with its position")
    func syntax() {
        #expect {
            _ = try CheckedYAML.load("a: [1, 2\nb: 3")
        } throws: { error in
            !(error is YAMLShapeError) && "\(error)".contains("line")
        }
    }

    @Test("plain scalars that Yams would read as base-60 integers beyond 64 bits are refused, whatever their tag")
    func base60() throws {
        for text in ["x: 1:0:0:0:0:0:0:0:0:0:0", "x: !!str 1:0:0:0:0:0:0:0:0:0:0", "x: 999999999999999999:0",
                     "x: -1_000_000_000_000_000_000:0", "[1:0:0:0:0:0:0:0:0:0:0]", "1:0:0:0:0:0:0:0:0:0:0: key"] {
            #expect(throws: YAMLShapeError.self, "\(text)") { _ = try CheckedYAML.compose(text) }
        }
        // Ten components fit in 64 bits (60^10 < 2^63) and load as Yams reads them; quoted, the same text is a string.
        let fits = try #require(try CheckedYAML.load("a: 1:30\nb: 59:59:59:59:59:59:59:59:59:59\nc: \"1:0:0:0:0:0:0:0:0:0:0\"\n")
                                as? [String: Any])
        #expect(fits["a"] as? Int == 90)
        #expect(fits["b"] as? Int == Int(pow(60.0, 10.0)) - 1)
        #expect(fits["c"] as? String == "1:0:0:0:0:0:0:0:0:0:0")
        // Text with colons that is not a number stays text (URLs, times with letters).
        #expect(Base60.trapsYams("postgres://veil@db:5432/panel") == false)
        #expect(Base60.trapsYams("1:0:0:0:0:0:0:0:0:0:0"))
        #expect(Base60.trapsYams("0:0:0:0:0:0:0:0:0:0:0:0") == false)  // Yams reads a leading 0 in octal: nil, no trap
    }

    @Test("a long text repeated through aliases counts its length at every copy")
    func longScalars() {
        let long = String(repeating: "A", count: 1 << 16)
        var lines = ["l0: &l0 \(long)"]
        for level in 1...5 {
            lines.append("l\(level): &l\(level) [" + Array(repeating: "*l\(level - 1)", count: 8).joined(separator: ", ") + "]")
        }
        // 8^5 = 32,768 copies of 64 KiB: far past the budget although the tree has fewer than 2^18 values.
        #expect {
            _ = try CheckedYAML.compose(lines.joined(separator: "\n"))
        } throws: { error in
            (error as? YAMLShapeError)?.kind == .tooLarge
        }
    }

    @Test("more than one merge key in a mapping, and more entries than the limit, are refused")
    func mergesAndEntries() throws {
        let merges = "a: &a {x: 1}\nb: {<<: *a, <<: *a}\n"
        #expect {
            _ = try CheckedYAML.compose(merges)
        } throws: { error in
            (error as? YAMLShapeError)?.kind == .repeatedMerge && (error as? YAMLShapeError)?.line == 2
        }
        let one = try #require(try CheckedYAML.load("a: &a {x: 1}\nb: {<<: *a, y: 2}\n") as? [String: Any])
        #expect((one["b"] as? [String: Any])?["x"] as? Int == 1)
        let wide = "{" + (0..<20).map { "k\($0): \($0)" }.joined(separator: ", ") + "}"
        #expect(throws: YAMLShapeError.self) { _ = try CheckedYAML.compose(wide, limits: YAMLLimits(mappingEntries: 19)) }
        #expect(try CheckedYAML.compose(wide, limits: YAMLLimits(mappingEntries: 20)) != nil)
    }
}
