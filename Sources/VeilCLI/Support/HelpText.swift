/// Help texts written as wrapped source lines, reflowed so that the argument parser wraps them to the terminal.
///
/// swift-argument-parser wraps each line of a discussion to the terminal's width but keeps every newline, so a
/// paragraph wrapped at 100 columns in the source prints as long lines cut at 80 with a short line after
/// each. ``reflow(_:)`` joins the lines of each paragraph and of each list item and keeps what must stay as
/// written: blank lines, indented lines (examples, tables), and the line after a heading that ends with `:`.
/// An indented line wider than the parser's lines is cut by ``wrapVerbatim(_:)`` instead: the parser would print
/// its end at the left margin, where it reads as a paragraph of its own.
enum HelpText {
    /// The widest line the argument parser prints whole when the output is not a terminal.
    static let width = 79

    /// What the last output line may take from the next source line.
    private enum Continuation { case none, prose, listItem }

    static func reflow(_ text: String) -> String {
        var output: [String] = []
        var last = Continuation.none
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let indented = line.first?.isWhitespace == true
            let trimmed = String(line.drop(while: \.isWhitespace))
            let isItem = !indented && (trimmed.hasPrefix("- ") || trimmed.hasPrefix("* "))
            // Prose continues prose; an indented line continues a list item; anything else starts a line.
            let continues = !line.isEmpty && !isItem && (last == .prose ? !indented : last == .listItem && indented)
            if continues {
                output[output.count - 1] += " " + trimmed
            } else {
                output.append(line)
                last = line.isEmpty || indented ? .none : isItem ? .listItem : .prose
            }
            if line.hasSuffix(":") { last = .none }
        }
        return output.flatMap { $0.first?.isWhitespace == true ? wrapVerbatim($0) : [$0] }.joined(separator: "\n")
    }

    /// An indented line cut at spaces into lines of at most ``width`` columns. A command (a line that starts with
    /// `veil ` or an option) continues after ` \` four columns further in, so that it can still be pasted into a
    /// shell (inside double quotes too, where the shell also drops a backslash-newline); any other line continues
    /// under its text after the first gap of two spaces or more (a definition list's description) when that gap
    /// is in the line's first half, else two columns further in. A word longer than a line stays whole.
    static func wrapVerbatim(_ line: String) -> [String] {
        guard line.count > width else { return [line] }
        let indentation = line.prefix(while: \.isWhitespace).count
        let text = line.dropFirst(indentation)
        let isCommand = text.hasPrefix("veil ") || text.hasPrefix("--")
        var hanging = indentation + (isCommand ? 4 : 2)
        if !isCommand, let gap = text.range(of: "  ") {
            let description = indentation + text.distance(from: text.startIndex, to: gap.lowerBound)
                + text[gap.lowerBound...].prefix(while: { $0 == " " }).count
            if description <= width / 2 { hanging = description }
        }
        let marker = isCommand ? " \\" : ""
        var lines: [String] = []
        var rest = Array(line)
        var start = indentation
        while rest.count > width {
            // The last space at which the line, with its continuation marker, fits; else the first one after.
            let limit = width - marker.count
            let candidates = rest.indices.filter { $0 > start && rest[$0] == " " && rest[$0 - 1] != " " }
            guard let cut = candidates.last(where: { $0 <= limit }) ?? candidates.first else { break }
            lines.append(String(rest[..<cut]) + marker)
            let remainder = rest[cut...].drop(while: { $0 == " " })
            rest = Array(repeating: " ", count: hanging) + remainder
            start = hanging
        }
        return lines + [String(rest)]
    }
}
