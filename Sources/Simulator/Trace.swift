import Foundation
import KubeModel

/// One request of a trace.
public struct TraceRequest: Sendable, Hashable {
    /// Seconds from the start of the trace.
    public var arrival: Double
    public var inputTokens: Int
    public var outputTokens: Int
    public init(arrival: Double, inputTokens: Int, outputTokens: Int) {
        self.arrival = arrival
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }
}

/// Why a trace could not be read; `line` is 1-based.
public struct TraceError: Error, CustomStringConvertible, Sendable, Equatable {
    public var line: Int?
    public var message: String
    public var description: String { (line.map { "line \($0): " } ?? "") + message }
}

/// Reads request traces: the Azure LLM inference CSV (`TIMESTAMP,ContextTokens,GeneratedTokens`)
/// and JSON lines (`timestamp` in milliseconds from the start, `input_length`,
/// `output_length`; other fields ignored). Rows come back sorted by arrival, starting at 0.
public enum TraceReader {
    public enum Format: String, Sendable { case azureCSV, jsonLines }

    public static let maxTokens = 10_000_000

    public static func read(path: String) throws(TraceError) -> [TraceRequest] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TraceError(line: nil, message: "cannot read \(path): no such file or not readable")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw TraceError(line: nil, message: "\(path) is not UTF-8 text")
        }
        let format: Format = path.hasSuffix(".jsonl") || path.hasSuffix(".json") || text.first == "{" ? .jsonLines : .azureCSV
        return try parse(text, format: format)
    }

    public static func parse(_ text: String, format: Format) throws(TraceError) -> [TraceRequest] {
        var requests: [TraceRequest] = []
        var lineNumber = 0
        var sawHeader = false
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            lineNumber += 1
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            switch format {
            case .azureCSV:
                if !sawHeader {
                    sawHeader = true
                    guard line.replacingOccurrences(of: " ", with: "") == "TIMESTAMP,ContextTokens,GeneratedTokens" else {
                        throw TraceError(line: lineNumber, message: "expected the header TIMESTAMP,ContextTokens,GeneratedTokens, found \"\(line.prefix(80))\"")
                    }
                    continue
                }
                requests.append(try csvRow(line, lineNumber))
            case .jsonLines:
                requests.append(try jsonRow(line, lineNumber))
            }
        }
        guard !requests.isEmpty else { throw TraceError(line: nil, message: "the trace holds no requests") }
        requests.sort { $0.arrival < $1.arrival }
        let start = requests[0].arrival
        return requests.map { TraceRequest(arrival: $0.arrival - start, inputTokens: $0.inputTokens, outputTokens: $0.outputTokens) }
    }

    static func tokens(_ s: Substring, _ what: String, _ line: Int) throws(TraceError) -> Int {
        guard let n = Int(s.trimmingCharacters(in: .whitespaces)), n >= 0, n <= maxTokens else {
            throw TraceError(line: line, message: "\(what) must be a whole number from 0 to \(maxTokens), found \"\(s.prefix(40))\"")
        }
        return n
    }

    static func csvRow(_ line: String, _ n: Int) throws(TraceError) -> TraceRequest {
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 3 else { throw TraceError(line: n, message: "expected 3 comma-separated fields, found \(fields.count)") }
        guard let t = parseTimestamp(fields[0].trimmingCharacters(in: .whitespaces)) else {
            throw TraceError(line: n, message: "TIMESTAMP must look like 2023-11-16 18:15:46.6805900, found \"\(fields[0].prefix(40))\"")
        }
        return TraceRequest(arrival: t, inputTokens: try tokens(fields[1], "ContextTokens", n), outputTokens: max(1, try tokens(fields[2], "GeneratedTokens", n)))
    }

    /// `YYYY-MM-DD HH:MM:SS(.fraction)` as seconds since the epoch (the zone is irrelevant: only differences matter).
    static func parseTimestamp(_ s: String) -> Double? {
        let parts = s.split(separator: " ")
        guard parts.count == 2 else { return nil }
        let seconds = parts[1].split(separator: ".", maxSplits: 1)
        guard let whole = Timestamp(rfc3339: "\(parts[0])T\(seconds[0])Z") else { return nil }
        var fraction = 0.0
        if seconds.count == 2 {
            guard seconds[1].allSatisfy(\.isNumber), let f = Double("0." + seconds[1]) else { return nil }
            fraction = f
        }
        return Double(whole.secondsSinceEpoch) + fraction
    }

    static func jsonRow(_ line: String, _ n: Int) throws(TraceError) -> TraceRequest {
        let value: JSONValue
        do {
            value = try JSONText.parse(line)
        } catch {
            throw TraceError(line: n, message: "not a JSON object: \(error.message)")
        }
        guard case .object = value else { throw TraceError(line: n, message: "each line must be a JSON object") }
        guard let ts = value["timestamp"]?.numberValue, ts.isFinite, ts >= 0 else {
            throw TraceError(line: n, message: "timestamp (milliseconds from the start, a non-negative number) is required")
        }
        func count(_ key: String) throws(TraceError) -> Int {
            guard let v = value[key]?.intValue, v >= 0, v <= Int64(maxTokens) else {
                throw TraceError(line: n, message: "\(key) must be a whole number from 0 to \(maxTokens)")
            }
            return Int(v)
        }
        return TraceRequest(arrival: ts / 1000, inputTokens: try count("input_length"), outputTokens: max(1, try count("output_length")))
    }
}
