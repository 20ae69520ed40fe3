import CYaml

/// Measures how deeply a YAML document nests before it is composed into a tree.
///
/// Yams composes documents by recursion, one stack frame per level, so a file nested 100,000 levels deep
/// (`[[[[…]]]]`, or `- - - …`) would overflow the stack. libyaml's own parser is a state machine with explicit
/// stacks; this check runs it over the text, counting levels as collections open and close, and stops at the
/// first level beyond the limit. An alias counts as deep as the collection it names, so anchors cannot
/// build a deep tree from shallow text.
struct YAMLNestingCheck {
    /// The deepest nesting accepted.
    let limit: Int

    /// The nesting depth of `text`, or `nil` when libyaml reports a syntax error (left to the composer, whose
    /// message names the line).
    /// - Throws: ``YAMLShapeError`` (`tooDeep`) with the line where the nesting goes beyond ``limit``.
    func depth(of text: String) throws -> Int? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            throw YAMLShapeError(.parserUnavailable, line: nil, "cannot start the YAML parser")
        }
        defer { yaml_parser_delete(&parser) }
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer -> Int? in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            // The height below each open collection so far, and its anchor.
            var open: [(anchor: String?, height: Int)] = []
            var anchoredHeights: [String: Int] = [:]
            var deepest = 0
            func close(height: Int, anchor: String?) {
                if let anchor { anchoredHeights[anchor] = height }
                if !open.isEmpty { open[open.count - 1].height = max(open[open.count - 1].height, height) }
                deepest = max(deepest, open.count + height)
            }
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                let line = Int(event.start_mark.line) + 1
                func tooDeep() -> YAMLShapeError {
                    YAMLShapeError(.tooDeep, line: line, "the YAML nests more than \(limit) levels deep")
                }
                switch event.type {
                case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                    let anchor = event.type == YAML_SEQUENCE_START_EVENT
                        ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
                    open.append((anchor.map { String(cString: $0) }, 0))
                    guard open.count <= limit else { throw tooDeep() }
                case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                    guard let finished = open.popLast() else { return nil }
                    close(height: finished.height + 1, anchor: finished.anchor)
                case YAML_SCALAR_EVENT:
                    close(height: 0, anchor: event.data.scalar.anchor.map { String(cString: $0) })
                case YAML_ALIAS_EVENT:
                    let name = event.data.alias.anchor.map { String(cString: $0) } ?? ""
                    close(height: anchoredHeights[name] ?? 0, anchor: nil)
                    guard deepest <= limit else { throw tooDeep() }
                case YAML_STREAM_END_EVENT:
                    return deepest
                default:
                    break
                }
            }
        }
    }
}
