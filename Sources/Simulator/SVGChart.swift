import Foundation

/// A chart of load and replicas over time, one line per policy, with axes, units and a legend.
public enum SVGChart {
    static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]

    public static func render(_ report: Evaluation.Report, title: String) -> String {
        let w = 960.0, h = 480.0, left = 70.0, right = 70.0, top = 50.0, bottom = 60.0
        let pw = w - left - right, ph = h - top - bottom
        let points = report.results.flatMap(\.timeline)
        let tMax = max(points.map(\.time).max() ?? 1, 1)
        let rMax = Double(max(points.map(\.replicas).max() ?? 1, 1))
        let loadMax = max(points.map(\.requestsPerSecond).max() ?? 1, 0.1)
        func x(_ t: Double) -> Double { left + t / tMax * pw }
        func yR(_ r: Double) -> Double { top + ph - r / (rMax * 1.1) * ph }
        func yL(_ l: Double) -> Double { top + ph - l / (loadMax * 1.1) * ph }
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(w))" height="\(Int(h))" viewBox="0 0 \(Int(w)) \(Int(h))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(w / 2))" y="24" text-anchor="middle" font-size="16">\(escape(title)): load and replicas per policy (cost in dollars at the SLO)</text>

            """
        // Axes and ticks.
        s += "<line x1=\"\(left)\" y1=\"\(top + ph)\" x2=\"\(left + pw)\" y2=\"\(top + ph)\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + ph)\" stroke=\"black\"/>\n"
        s += "<line x1=\"\(left + pw)\" y1=\"\(top)\" x2=\"\(left + pw)\" y2=\"\(top + ph)\" stroke=\"#888\"/>\n"
        let minutes = tMax / 60
        let step = minutes > 40 ? 10.0 : minutes > 15 ? 5.0 : 1.0
        for m in stride(from: 0.0, through: minutes, by: step) {
            let px = x(m * 60)
            s += "<line x1=\"\(px)\" y1=\"\(top + ph)\" x2=\"\(px)\" y2=\"\(top + ph + 5)\" stroke=\"black\"/><text x=\"\(px)\" y=\"\(top + ph + 18)\" text-anchor=\"middle\">\(Int(m))</text>\n"
        }
        s += "<text x=\"\(left + pw / 2)\" y=\"\(h - 20)\" text-anchor=\"middle\">time (minutes)</text>\n"
        let rStep = max(1.0, (rMax / 5).rounded(.up))
        for r in stride(from: 0.0, through: rMax * 1.1, by: rStep) {
            s += "<text x=\"\(left - 8)\" y=\"\(yR(r) + 4)\" text-anchor=\"end\">\(Int(r))</text><line x1=\"\(left)\" y1=\"\(yR(r))\" x2=\"\(left + pw)\" y2=\"\(yR(r))\" stroke=\"#eee\"/>\n"
        }
        s += "<text transform=\"translate(18,\(top + ph / 2)) rotate(-90)\" text-anchor=\"middle\">replicas</text>\n"
        let lStep = niceStep(loadMax * 1.1 / 5)
        for l in stride(from: 0.0, through: loadMax * 1.1, by: lStep) {
            s += "<text x=\"\(left + pw + 8)\" y=\"\(yL(l) + 4)\">\(String(format: lStep < 1 ? "%.1f" : "%.0f", l))</text>\n"
        }
        s += "<text transform=\"translate(\(w - 16),\(top + ph / 2)) rotate(90)\" text-anchor=\"middle\">load (requests/s, 1-min average)</text>\n"
        // Load (from the first policy's timeline; every policy sees the same trace).
        if let first = report.results.first {
            s += polyline(first.timeline.map { (x($0.time), yL($0.requestsPerSecond)) }, color: "#bbb", width: 4)
        }
        for (i, r) in report.results.enumerated() {
            s += polyline(stepPoints(r.timeline.map { (x($0.time), yR(Double($0.replicas))) }), color: colors[i % colors.count], width: 1.6)
        }
        // Legend.
        var ly = top + 8
        s += "<rect x=\"\(left + 10)\" y=\"\(ly - 4)\" width=\"380\" height=\"\(Double(report.results.count + 1) * 16 + 8)\" fill=\"white\" stroke=\"#ccc\"/>\n"
        s += "<line x1=\"\(left + 18)\" y1=\"\(ly + 6)\" x2=\"\(left + 40)\" y2=\"\(ly + 6)\" stroke=\"#bbb\" stroke-width=\"4\"/><text x=\"\(left + 46)\" y=\"\(ly + 10)\">load (right axis)</text>\n"
        for (i, r) in report.results.enumerated() {
            ly += 16
            s += "<line x1=\"\(left + 18)\" y1=\"\(ly + 6)\" x2=\"\(left + 40)\" y2=\"\(ly + 6)\" stroke=\"\(colors[i % colors.count])\" stroke-width=\"2\"/><text x=\"\(left + 46)\" y=\"\(ly + 10)\">\(escape(r.policy)) on \(escape(r.gpuType))×\(r.tensorParallel): $\(String(format: "%.2f", r.costDollars)), \(String(format: "%.1f", r.gpuHours)) GPU-h, \(String(format: "%.1f", r.sloAttainment * 100))% SLO</text>\n"
        }
        if ReportFormatter.isAzure(title) {
            s += "<text x=\"\(left)\" y=\"\(h - 4)\" font-size=\"10\" fill=\"#555\">\(escape(ReportFormatter.attribution))</text>\n"
        }
        return s + "</svg>\n"
    }

    static func stepPoints(_ pts: [(Double, Double)]) -> [(Double, Double)] {
        var out: [(Double, Double)] = []
        for (i, p) in pts.enumerated() {
            if i > 0 { out.append((p.0, pts[i - 1].1)) }
            out.append(p)
        }
        return out
    }

    static func polyline(_ pts: [(Double, Double)], color: String, width: Double) -> String {
        let coords = pts.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
        return "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(width)\" points=\"\(coords)\"/>\n"
    }

    static func niceStep(_ raw: Double) -> Double {
        let mag = pow(10, floor(log10(max(raw, 1e-9))))
        for m in [1.0, 2, 5, 10] where m * mag >= raw { return m * mag }
        return 10 * mag
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
