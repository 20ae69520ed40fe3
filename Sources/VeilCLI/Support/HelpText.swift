/// Help texts written as wrapped source lines, reflowed so that the argument parser wraps them to the terminal.
///
/// swift-argument-parser wraps each line of a discussion to the terminal's width but keeps every newline, so a
/// paragraph wrapped at 100 columns in the source prints as long lines cut at 80 with a short line after
/// each. ``reflow(_:)`` joins the lines of each paragraph and of each list item and keeps what must stay as
/// written: blank lines, indented lines (examples, tables), and the line after a heading that ends with `:`.
enum HelpText {
    static func reflow(_ text: String) -> String {
        var output: [String] = []
        // Whether the last output line may take the next source line: prose, or a list item with its
        // indented continuation lines.
        var open: Kind = .closed
        enum Kind { case closed, prose, listItem }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let indented = line.first?.isWhitespace == true
            let trimmed = line.trimmingLeadingWhitespace()
            let isItem = !indented && (trimmed.hasPrefix("- ") || trimmed.hasPrefix("* "))
            let continues = !line.isEmpty && !isItem && (open == .prose ? !indented : open == .listItem && indented)
            if continues {
                output[output.count - 1] += " " + trimmed
            } else {
                output.append(line)
                open = line.isEmpty ? .closed : isItem ? .listItem : indented ? .closed : .prose
            }
            if line.hasSuffix(":") { open = .closed }
        }
        return output.joined(separator: "\n")
    }
}

private extension String {
    func trimmingLeadingWhitespace() -> String { String(drop(while: { $0.isWhitespace })) }
}
