import Foundation

/// Named figures of one benchmark area, printed as one JSON object:
/// `{"area": "...", "figures": {"name": {"value": 1.5, "unit": "samples/s"}, ...}}`.
struct BenchmarkReport {
    let area: String
    private(set) var figures: [(name: String, value: Double, unit: String)] = []

    init(area: String) { self.area = area }

    mutating func add(_ name: String, _ value: Double, unit: String) {
        figures.append((name, value, unit))
        FileHandle.standardError.write(Data("  \(name): \(Self.format(value)) \(unit)\n".utf8))
    }

    func json() -> String {
        let entries = figures.map { f in
            "    \"\(f.name)\": {\"value\": \(Self.format(f.value)), \"unit\": \"\(f.unit)\"}"
        }
        return "{\n  \"area\": \"\(area)\",\n  \"figures\": {\n" + entries.joined(separator: ",\n") + "\n  }\n}"
    }

    private static func format(_ v: Double) -> String {
        guard v.isFinite else { return "null" }
        if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
        return String(format: "%.6g", v)
    }
}

/// Wall-clock seconds of `body`, the best of `repeats` runs (the least disturbed by other load).
func bestTime(repeats: Int = 3, _ body: () throws -> Void) rethrows -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}

/// Keeps the optimiser from discarding a computed value.
@inline(never) func blackHole<T>(_ value: T) { _ = value }
