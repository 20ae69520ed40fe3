import _TestSupport
import Foundation
import Testing

/// The argument parser wraps help to 80 columns when the output is not a terminal and keeps every newline of a
/// discussion, so discussions are reflowed (paragraphs and list items joined) before it sees them.
@Suite("Help layout")
struct HelpLayoutTests {
    /// Commands whose discussions have wrapped paragraphs, a list, examples and exit codes.
    /// The widest line the parser prints when the output is not a terminal.
    static let width = 79

    static let commands: [[String]] = [["train"], ["query"], ["federated"], ["audit", "mechanism"], ["serve"], ["budget"]]

    @Test("a wrapped paragraph prints as one paragraph: no line of prose is cut short before a word that fits",
          arguments: commands)
    func paragraphsReflow(command: [String]) throws {
        let run = try runVeil(command + ["--help"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (line, next) in zip(lines, lines.dropFirst()) {
            // Two consecutive unindented prose lines: the first must be full, i.e. the next one's first word
            // would not have fitted on it (the source's own line breaks used to leave lines of 10–60 columns).
            guard !line.isEmpty, !next.isEmpty, line.first != " ", next.first != " ", !line.hasSuffix(":"),
                  !next.hasPrefix("-"), !line.hasPrefix("USAGE"), !line.hasPrefix("OVERVIEW") else { continue }
            let firstWord = next.split(separator: " ").first.map(String.init) ?? ""
            // The parser's lines hold at most 79 characters.
            #expect(line.count + 1 + firstWord.count > Self.width, "\(command): '\(line)' is cut before '\(firstWord)'")
        }
    }

    /// Commands with examples, definition lists or quoted SQL wider than the parser's lines in their source.
    static let wideExamples: [[String]] = [["account"], ["query"], ["enclave", "keybroker"], ["enclave", "query"],
                                            ["audit", "mechanism"], ["audit", "query"], ["federated", "simulate"]]

    @Test("an indented line (example, definition) never runs past the parser's width to the left margin",
          arguments: wideExamples)
    func verbatimLinesFit(command: [String]) throws {
        let run = try runVeil(command + ["--help"])
        #expect(run.status == 0)
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let discussion = lines.prefix { !$0.hasPrefix("USAGE:") }
        for (line, next) in zip(discussion, discussion.dropFirst()) where line.first == " " {
            #expect(line.count <= Self.width, "\(command): '\(line)' is wider than the parser's lines")
            // What the parser cuts off an indented line lands at the left margin, right under it.
            guard !next.isEmpty, next.first != " ", !next.hasSuffix(":") else { continue }
            let firstWord = next.split(separator: " ").first ?? ""
            #expect(line.count + 1 + firstWord.count <= Self.width, "\(command): '\(next)' was cut off '\(line)'")
        }
        // A command cut by Veil continues after a backslash, so it still pastes into a shell as one command.
        if command == ["account"] {
            #expect(run.stdout.contains("veil account calibrate --target-epsilon 3 --sampling-rate 0.004267 --steps \\\n      14060"))
        }
    }

    @Test("veil train --help keeps its example lines as written and joins its first paragraph")
    func trainHelp() throws {
        let run = try runVeil(["train", "--help"])
        // Two source lines of the first paragraph meet on one printed line.
        #expect(run.stdout.contains("docs/training.md. The noise multiplier is calibrated"))
        #expect(run.stdout.contains("\n  veil budget create mnist --epsilon 8 --delta 1e-5 --composition rdp\n"))
    }
}
