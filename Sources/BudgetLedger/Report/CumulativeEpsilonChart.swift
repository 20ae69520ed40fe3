import Foundation

/// An inline SVG step chart of cumulative ε over time: one line for the scope, one per analyst,
/// and a dashed line at the budget's limit. Self-contained (no scripts, fonts or network).
struct CumulativeEpsilonChart {
    let scope: String
    let limit: Double
    let total: [CumulativePoint]
    let analysts: [AnalystSeries]

    static let palette = ["#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]

    private let width = 760.0
    private let height = 320.0
    private let left = 64.0
    private let right = 170.0
    private let top = 20.0
    private let bottom = 48.0

    /// 1, 2, 2.5 or 5 times a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0, raw.isFinite else { return 1 }
        let magnitude = pow(10, (log10(raw)).rounded(.down))
        for m in [1, 2, 2.5, 5, 10] where m * magnitude >= raw * (1 - 1e-12) { return m * magnitude }
        return 10 * magnitude
    }

    func svg() -> String {
        let plotW = width - left - right
        let plotH = height - top - bottom
        let allPoints = total + analysts.flatMap(\.points)
        let times = allPoints.map { $0.time.timeIntervalSince1970 }
        // A little room on both sides so that the first and last steps are visible.
        let first = times.min() ?? 0
        let last = max(times.max() ?? 1, first + 1)
        let t0 = first - (last - first) * 0.02
        let t1 = last + (last - first) * 0.06
        let highest = max(limit, allPoints.map(\.epsilon).max() ?? 0) * 1.05
        let step = Self.niceStep(highest / 5)
        let tickCount = max(1, Int((highest / step).rounded(.up)))
        let maxEpsilon = Double(tickCount) * step
        func x(_ t: Double) -> Double { left + (t - t0) / (t1 - t0) * plotW }
        func y(_ e: Double) -> Double { top + plotH - (maxEpsilon > 0 ? e / maxEpsilon : 0) * plotH }
        func fmt(_ v: Double) -> String { String(format: "%.1f", v) }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \(Int(width)) \(Int(height))" width="\(Int(width))" \
        height="\(Int(height))" role="img" aria-label="Cumulative ε over time for \(ReportFormatting.html(scope))" \
        font-family="sans-serif" font-size="11">
        <rect x="\(fmt(left))" y="\(fmt(top))" width="\(fmt(plotW))" height="\(fmt(plotH))" fill="#fafafa" stroke="#ccc"/>

        """
        // Horizontal grid and ε ticks.
        for i in 0...tickCount {
            let e = step * Double(i)
            let yy = y(e)
            svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(yy))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(yy))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(yy + 4))\" text-anchor=\"end\">\(ReportFormatting.amount((e / step).rounded() * step))</text>\n"
        }
        // Time ticks.
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let span = t1 - t0
        formatter.dateFormat = span > 2 * 86_400 ? "yyyy-MM-dd" : span > 20 ? "HH:mm:ss" : "HH:mm:ss.S"
        for i in 0...4 {
            let t = t0 + (t1 - t0) * Double(i) / 4
            let label = formatter.string(from: Date(timeIntervalSince1970: t))
            svg += "<text x=\"\(fmt(x(t)))\" y=\"\(fmt(top + plotH + 16))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        svg += "<text x=\"\(fmt(left + plotW / 2))\" y=\"\(fmt(height - 8))\" text-anchor=\"middle\">time (UTC)</text>\n"
        svg += "<text transform=\"translate(14 \(fmt(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\">cumulative ε</text>\n"
        // Limit.
        svg += "<line x1=\"\(fmt(left))\" y1=\"\(fmt(y(limit)))\" x2=\"\(fmt(left + plotW))\" y2=\"\(fmt(y(limit)))\" "
        svg += "stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"

        func path(_ points: [CumulativePoint], color: String, widthPx: Double, opacity: Double = 1) -> String {
            guard !points.isEmpty else { return "" }
            var d = "M\(fmt(x(t0))) \(fmt(y(0)))"
            var previous = 0.0
            for p in points {
                let px = x(p.time.timeIntervalSince1970)
                d += " L\(fmt(px)) \(fmt(y(previous))) L\(fmt(px)) \(fmt(y(p.epsilon)))"
                previous = p.epsilon
            }
            d += " L\(fmt(x(t1))) \(fmt(y(previous)))"
            return "<path d=\"\(d)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(fmt(widthPx))\" "
                + "stroke-opacity=\"\(opacity)\" stroke-linejoin=\"round\"/>\n"
        }
        // The scope total underneath (wide, translucent), the analysts on top of it.
        svg += path(total, color: "#444", widthPx: 6, opacity: 0.35)
        for (i, series) in analysts.enumerated() {
            svg += path(series.points, color: Self.palette[i % Self.palette.count], widthPx: 2)
        }

        // Legend.
        var ly = top + 8
        func legend(_ label: String, color: String, dashed: Bool = false, widthPx: Double = 2.5, opacity: Double = 1) {
            let lx = left + plotW + 14
            svg += "<line x1=\"\(fmt(lx))\" y1=\"\(fmt(ly))\" x2=\"\(fmt(lx + 22))\" y2=\"\(fmt(ly))\" stroke=\"\(color)\" "
            svg += "stroke-width=\"\(fmt(widthPx))\" stroke-opacity=\"\(opacity)\"\(dashed ? " stroke-dasharray=\"6 4\"" : "")/>"
            svg += "<text x=\"\(fmt(lx + 28))\" y=\"\(fmt(ly + 4))\">\(ReportFormatting.html(label))</text>\n"
            ly += 18
        }
        legend("limit ε = \(ReportFormatting.amount(limit))", color: "#d62728", dashed: true)
        legend("scope total", color: "#444", widthPx: 6, opacity: 0.35)
        for (i, series) in analysts.enumerated() {
            legend(series.analyst, color: Self.palette[i % Self.palette.count])
        }
        svg += "</svg>"
        return svg
    }
}
