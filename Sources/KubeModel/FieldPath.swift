/// Field paths as Kubernetes writes them in errors: `spec.steps[2].weight`,
/// `metadata.labels[app.kubernetes.io/name]`.
public enum FieldPath {
    public static func child(_ parent: String, _ key: String) -> String {
        let simple = !key.isEmpty && key.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2D
        }
        if simple { return parent.isEmpty ? key : parent + "." + key }
        return parent + "[" + key + "]"
    }

    public static func index(_ parent: String, _ i: Int) -> String {
        parent + "[\(i)]"
    }

    /// The enclosing path: `spec.steps[2]` for `spec.steps[2].weight`, "" for a top-level field.
    public static func parent(of path: String) -> String {
        guard let last = path.last else { return "" }
        if last == "]" {
            // Walk back to the matching '[' (keys inside brackets may contain dots).
            var depth = 0
            var i = path.endIndex
            while i > path.startIndex {
                i = path.index(before: i)
                if path[i] == "]" { depth += 1 }
                if path[i] == "[" {
                    depth -= 1
                    if depth == 0 { return String(path[..<i]) }
                }
            }
            return ""
        }
        if let dot = path.lastIndex(of: "."), !path[dot...].contains("]") {
            return String(path[..<dot])
        }
        if let bracket = path.lastIndex(of: "]") {
            return String(path[...bracket])
        }
        return ""
    }
}
