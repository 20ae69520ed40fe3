import CheckedYAML
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
        // Nine levels of ten aliases each: 40 lines that name 10^9 values.
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
            (error as? YAMLShapeError)?.kind == .tooLarge && "\(error)".contains("more than 1048576 values")
        }
        // The walk stops at the budget: 2^20 visits, far from the 10^9 a full expansion would make.
        #expect(clock.now - start < .seconds(30))
        // Its first five levels expand to 123,456 values (the top mapping, then 11 + 111 + … + 111,111) and load.
        let shallow = lines.prefix(5).joined(separator: "\n") + "\n"
        let loaded = try #require(try CheckedYAML.load(shallow) as? [String: Any])
        #expect((loaded["l4"] as? [Any])?.count == 10)
        // One value less than they need is refused.
        #expect(throws: YAMLShapeError.self) {
            _ = try CheckedYAML.compose(shallow, limits: YAMLLimits(expandedNodes: 123_455))
        }
        #expect(try CheckedYAML.compose(shallow, limits: YAMLLimits(expandedNodes: 123_456)) != nil)
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
}
