import KubeModel

/// `/openapi/v2` as client-go asks for it: the Swagger 2.0 document in gnostic's `openapi.v2`
/// protobuf form (asked for as `application/com.github.proto-openapi.spec.v2@v1.0+protobuf`), the
/// only form client-go accepts there. kubectl falls back to it when a kind is missing from the
/// OpenAPI v3 documents (a typo in `kind:`, or a custom resource applied before its CRD);
/// answering lets kubectl go on to report "no matches for kind ... ensure CRDs are installed
/// first", as against a real cluster, instead of failing to download the schema.
///
/// The encoding covers the document's header and its definitions, which is what clients read
/// (validation and `explain` look kinds up by their `x-kubernetes-group-version-kind`); the
/// `paths` section is left out. Values of type `Any` (defaults, enums, extensions) carry their
/// YAML text, for which JSON text serves, as gnostic writes them. Field numbers follow
/// gnostic's `openapiv2/OpenAPIv2.proto`.
enum OpenAPIV2Protobuf {
    /// What kube-apiserver answers with: clients ask with an `@` in the subtype, which Go's
    /// media-type parser refuses in a response's Content-Type, so the answer spells it with a dot.
    static let contentType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    static func encode(_ document: JSONValue) -> [UInt8] {
        var w = Writer()
        if let s = document["swagger"]?.stringValue { w.string(1, s) }
        if let info = document["info"] {
            w.message(2) { i in
                if let t = info["title"]?.stringValue { i.string(1, t) }
                if let v = info["version"]?.stringValue { i.string(2, v) }
            }
        }
        if case .object(let definitions)? = document["definitions"] {
            w.message(9) { d in
                for (name, schema) in definitions { d.message(1) { n in n.namedSchema(name, schema) } }
            }
        }
        return w.bytes
    }

    struct Writer {
        var bytes: [UInt8] = []

        mutating func varint(_ v: UInt64) {
            var v = v
            while v >= 0x80 {
                bytes.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            bytes.append(UInt8(v))
        }

        mutating func tag(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

        mutating func string(_ field: Int, _ s: String) {
            tag(field, 2)
            let utf8 = Array(s.utf8)
            varint(UInt64(utf8.count))
            bytes += utf8
        }

        mutating func bool(_ field: Int, _ b: Bool) {
            tag(field, 0)
            varint(b ? 1 : 0)
        }

        mutating func int64(_ field: Int, _ n: Int64) {
            tag(field, 0)
            varint(UInt64(bitPattern: n))
        }

        mutating func double(_ field: Int, _ d: Double) {
            tag(field, 1)
            var bits = d.bitPattern
            for _ in 0..<8 {
                bytes.append(UInt8(bits & 0xFF))
                bits >>= 8
            }
        }

        mutating func message(_ field: Int, _ body: (inout Writer) -> Void) {
            var inner = Writer()
            body(&inner)
            tag(field, 2)
            varint(UInt64(inner.bytes.count))
            bytes += inner.bytes
        }

        /// `Any { string yaml = 2 }`.
        mutating func any(_ field: Int, _ value: JSONValue) {
            message(field) { $0.string(2, JSONText.serialize(value)) }
        }

        mutating func namedSchema(_ name: String, _ schema: JSONValue) {
            string(1, name)
            message(2) { $0.schema(schema) }
        }

        /// gnostic's `Schema` message.
        mutating func schema(_ s: JSONValue) {
            guard case .object(let o) = s else { return }
            if let v = o["$ref"]?.stringValue { string(1, v) }
            if let v = o["format"]?.stringValue { string(2, v) }
            if let v = o["title"]?.stringValue { string(3, v) }
            if let v = o["description"]?.stringValue { string(4, v) }
            if let v = o["default"] { any(5, v) }
            if let v = o["multipleOf"]?.numberValue { double(6, v) }
            if let v = o["maximum"]?.numberValue { double(7, v) }
            if o["exclusiveMaximum"] == .bool(true) { bool(8, true) }
            if let v = o["minimum"]?.numberValue { double(9, v) }
            if o["exclusiveMinimum"] == .bool(true) { bool(10, true) }
            for (key, field) in [("maxLength", 11), ("minLength", 12)] { if let n = o[key]?.numberValue { int64(field, Int64(n)) } }
            if let v = o["pattern"]?.stringValue { string(13, v) }
            for (key, field) in [("maxItems", 14), ("minItems", 15)] { if let n = o[key]?.numberValue { int64(field, Int64(n)) } }
            if o["uniqueItems"] == .bool(true) { bool(16, true) }
            for (key, field) in [("maxProperties", 17), ("minProperties", 18)] { if let n = o[key]?.numberValue { int64(field, Int64(n)) } }
            for r in o["required"]?.arrayValue ?? [] { if let r = r.stringValue { string(19, r) } }
            for e in o["enum"]?.arrayValue ?? [] { any(20, e) }
            switch o["additionalProperties"] {
            case .bool(let b)?: message(21) { $0.bool(2, b) }
            case let additional? where additional.objectValue != nil: message(21) { $0.message(1) { $0.schema(additional) } }
            default: break
            }
            switch o["type"] {
            case .string(let t)?: message(22) { $0.string(1, t) }
            case .array(let ts)?: message(22) { w in for t in ts { if let t = t.stringValue { w.string(1, t) } } }
            default: break
            }
            if let items = o["items"] {
                message(23) { w in
                    if case .array(let list) = items { for i in list { w.message(1) { $0.schema(i) } } } else { w.message(1) { $0.schema(items) } }
                }
            }
            for a in o["allOf"]?.arrayValue ?? [] { message(24) { $0.schema(a) } }
            if case .object(let properties)? = o["properties"] {
                message(25) { w in for (name, p) in properties { w.message(1) { $0.namedSchema(name, p) } } }
            }
            if o["readOnly"] == .bool(true) { bool(27, true) }
            if let v = o["example"] { any(30, v) }
            for (key, value) in o where key.hasPrefix("x-") {
                message(31) { w in
                    w.string(1, key)
                    w.any(2, value)
                }
            }
        }
    }
}
