/// The API server's checks on `metadata` (names, namespaces, labels, annotations), as field
/// errors. Name rules follow the Kubernetes identifiers design (RFC 1123 subdomains and labels).
public enum ObjectMetaValidation {
    public static let maxAnnotationBytes = 256 * 1024

    /// How a kind's names are checked: most kinds use RFC 1123 subdomains; RBAC kinds only
    /// need a valid path segment (`system:discovery`).
    public enum NameRule: Sendable {
        case subdomain, pathSegment

        public func problems(_ name: String) -> [String] {
            switch self {
            case .subdomain: return dns1123Subdomain(name)
            case .pathSegment: return pathSegmentName(name)
            }
        }
    }

    /// kube-apiserver's path-segment rule: anything but `.`, `..`, `/` and `%`.
    public static func pathSegmentName(_ name: String) -> [String] {
        if name.isEmpty { return ["a name may not be empty"] }
        if name == "." || name == ".." { return ["may not be '\(name)'"] }
        for bad in ["/", "%"] where name.contains(bad) { return ["may not contain '\(bad)'"] }
        return []
    }

    public static func validate(_ metadata: JSONValue?, namespaced: Bool, path: String = "metadata", nameRule: NameRule = .subdomain) -> [FieldError] {
        guard let metadata else { return [FieldError(.required, path, "every object needs metadata with a name")] }
        guard case .object(let meta) = metadata else {
            return [FieldError(.typeInvalid, path, value: metadata, "must be of type object, not \(metadata.typeName)")]
        }
        var errors: [FieldError] = []
        let name = meta["name"]
        let generateName = meta["generateName"]
        switch name {
        case nil, .null?:
            if generateName == nil {
                errors.append(FieldError(.required, FieldPath.child(path, "name"), "name or generateName is required"))
            }
        case .string(let n)?:
            for problem in nameRule.problems(n) {
                errors.append(FieldError(.invalid, FieldPath.child(path, "name"), value: .string(n), problem))
            }
        case let other?:
            errors.append(FieldError(.typeInvalid, FieldPath.child(path, "name"), value: other, "must be a string"))
        }
        if let ns = meta["namespace"] {
            if !namespaced {
                errors.append(FieldError(.forbidden, FieldPath.child(path, "namespace"), "not allowed on a cluster-scoped resource"))
            } else if case .string(let s) = ns {
                for problem in dns1123Label(s) {
                    errors.append(FieldError(.invalid, FieldPath.child(path, "namespace"), value: ns, problem))
                }
            } else {
                errors.append(FieldError(.typeInvalid, FieldPath.child(path, "namespace"), value: ns, "must be a string"))
            }
        }
        if let labels = meta["labels"] {
            errors += validateLabels(labels, path: FieldPath.child(path, "labels"))
        }
        if let annotations = meta["annotations"] {
            let p = FieldPath.child(path, "annotations")
            if case .object(let a) = annotations {
                var total = 0
                for (k, v) in a {
                    for problem in qualifiedName(k) {
                        errors.append(FieldError(.invalid, p, value: .string(k), problem))
                    }
                    guard case .string(let s) = v else {
                        errors.append(FieldError(.typeInvalid, FieldPath.child(p, k), value: v, "annotation values must be strings"))
                        continue
                    }
                    total += k.utf8.count + s.utf8.count
                }
                if total > maxAnnotationBytes {
                    errors.append(FieldError(.tooLong, p, "annotations may not total more than \(maxAnnotationBytes) bytes"))
                }
            } else {
                errors.append(FieldError(.typeInvalid, p, value: annotations, "must be a map of string keys to string values"))
            }
        }
        return errors
    }

    public static func validateLabels(_ labels: JSONValue, path: String) -> [FieldError] {
        guard case .object(let l) = labels else {
            return [FieldError(.typeInvalid, path, value: labels, "must be a map of string keys to string values")]
        }
        var errors: [FieldError] = []
        for (k, v) in l {
            for problem in qualifiedName(k) {
                errors.append(FieldError(.invalid, path, value: .string(k), problem))
            }
            guard case .string(let s) = v else {
                errors.append(FieldError(.typeInvalid, FieldPath.child(path, k), value: v, "label values must be strings"))
                continue
            }
            for problem in labelValue(s) {
                errors.append(FieldError(.invalid, FieldPath.child(path, k), value: v, problem))
            }
        }
        return errors
    }

    /// RFC 1123 subdomain: lowercase alphanumerics, '-' and '.', at most 253 characters.
    public static func dns1123Subdomain(_ s: String) -> [String] {
        if s.isEmpty { return ["must not be empty"] }
        var out: [String] = []
        if s.utf8.count > 253 { out.append("must be no more than 253 characters") }
        let ok = s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { isLabel($0) }
        if !ok {
            out.append(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com')"
            )
        }
        return out
    }

    /// RFC 1123 label: lowercase alphanumerics and '-', at most 63 characters.
    public static func dns1123Label(_ s: String) -> [String] {
        var out: [String] = []
        if s.utf8.count > 63 { out.append("must be no more than 63 characters") }
        if !isLabel(Substring(s)) {
            out.append(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name')"
            )
        }
        return out
    }

    private static func isLabel(_ s: Substring) -> Bool {
        guard let f = s.utf8.first, let l = s.utf8.last, s.utf8.count <= 63 else { return false }
        func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) }
        return alnum(f) && alnum(l) && s.utf8.allSatisfy { alnum($0) || $0 == 0x2D }
    }

    /// Label and annotation keys: optional DNS-subdomain prefix, '/', and a name of at most
    /// 63 characters of alphanumerics, '-', '_' and '.', beginning and ending alphanumeric.
    public static func qualifiedName(_ key: String) -> [String] {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        var name = Substring(key)
        var out: [String] = []
        if parts.count == 2 {
            if parts[0].isEmpty {
                out.append("prefix part must be non-empty")
            } else {
                out += dns1123Subdomain(String(parts[0])).map { "prefix part " + $0 }
            }
            name = parts[1]
        } else if parts.count > 2 {
            return ["a qualified name may contain at most one '/'"]
        }
        if name.isEmpty { return out + ["name part must be non-empty"] }
        if name.utf8.count > 63 { out.append("name part must be no more than 63 characters") }
        if !isNamePart(name) {
            out.append(
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', 'my.name', or '123-abc')"
            )
        }
        return out
    }

    public static func labelValue(_ v: String) -> [String] {
        if v.isEmpty { return [] }
        var out: [String] = []
        if v.utf8.count > 63 { out.append("must be no more than 63 characters") }
        if !isNamePart(Substring(v)) {
            out.append(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
            )
        }
        return out
    }

    private static func isNamePart(_ s: Substring) -> Bool {
        func alnum(_ c: UInt8) -> Bool { (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) }
        guard let f = s.utf8.first, let l = s.utf8.last else { return false }
        return alnum(f) && alnum(l) && s.utf8.allSatisfy { alnum($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
    }
}
