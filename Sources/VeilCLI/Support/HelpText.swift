/// Help texts written as wrapped source lines, reflowed so that the argument parser wraps them to the terminal.
///
/// swift-argument-parser wraps each line of a discussion to the terminal's width but keeps every newline, so a
/// paragraph wrapped at 100 columns in the source prints as long lines cut at 80 with a short line after
/// each. ``reflow(_:)`` joins the lines of each paragraph and of each list item and keeps what must stay as
/// written: blank lines, indented lines (examples, tables), and the line after a heading that ends with `:`.
enum HelpText {
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
        return output.joined(separator: "\n")
    }
}
