import Foundation

/// Kubernetes resource quantities ("8", "500m", "16Gi", "1.5G", "2e3") as numbers, for the
/// arithmetic a scheduler does on requests and allocatable.
public enum Quantity {
    private static let binary: [String: Double] = ["Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776, "Pi": 1_125_899_906_842_624, "Ei": 1_152_921_504_606_846_976]
    private static let decimal: [String: Double] = ["n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18]

    /// The value of `text`, or nil when it is not a quantity.
    public static func parse(_ text: String) -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { return nil }
        for (suffix, factor) in binary where s.hasSuffix(suffix) {
            return Double(s.dropLast(2)).map { $0 * factor }
        }
        if let last = s.last, let factor = decimal[String(last)], !(last == "E" && s.dropLast().contains(where: { $0 == "e" || $0 == "E" })) {
            return Double(s.dropLast()).map { $0 * factor }
        }
        return Double(s)
    }

    /// The value of a JSON quantity (a string or a bare number).
    public static func parse(_ value: JSONValue?) -> Double? {
        guard let value else { return nil }
        if let s = value.stringValue { return parse(s) }
        return value.numberValue
    }
}
