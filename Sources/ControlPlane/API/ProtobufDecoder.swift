import Foundation
import KubeModel

/// Decodes Kubernetes protobuf request bodies (the `k8s\0` envelope around a `runtime.Unknown`)
/// into JSON, for the built-in kinds kubectl's typed commands send that way (`create namespace`,
/// `create configmap`, `create secret`, `create serviceaccount`). Field numbers follow the
/// upstream `generated.proto` files; unknown fields are skipped, as protobuf intends.
enum ProtobufDecoder {
    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    indirect enum Field: Sendable {
        case string, bytes, int64, bool, time
        case message([Int: (String, Field)])
        case repeated(Field)
        case map(Field)  // string keys; the value kind
    }

    static let ownerReference: Field = .message([
        1: ("kind", .string), 3: ("name", .string), 4: ("uid", .string), 5: ("apiVersion", .string), 6: ("controller", .bool),
        7: ("blockOwnerDeletion", .bool),
    ])
    static let objectMeta: Field = .message([
        1: ("name", .string), 2: ("generateName", .string), 3: ("namespace", .string), 5: ("uid", .string), 6: ("resourceVersion", .string),
        7: ("generation", .int64), 8: ("creationTimestamp", .time), 9: ("deletionTimestamp", .time), 10: ("deletionGracePeriodSeconds", .int64),
        11: ("labels", .map(.string)), 12: ("annotations", .map(.string)), 13: ("ownerReferences", .repeated(ownerReference)),
        14: ("finalizers", .repeated(.string)),
    ])
    static let localObjectReference: Field = .message([1: ("name", .string)])

    static let kinds: [String: Field] = [
        "Namespace": .message([
            1: ("metadata", objectMeta), 2: ("spec", .message([1: ("finalizers", .repeated(.string))])),
            3: ("status", .message([1: ("phase", .string)])),
        ]),
        "ConfigMap": .message([1: ("metadata", objectMeta), 2: ("data", .map(.string)), 3: ("binaryData", .map(.bytes)), 4: ("immutable", .bool)]),
        "Secret": .message([
            1: ("metadata", objectMeta), 2: ("data", .map(.bytes)), 3: ("type", .string), 4: ("stringData", .map(.string)), 5: ("immutable", .bool),
        ]),
        "DeleteOptions": .message([
            1: ("gracePeriodSeconds", .int64), 2: ("preconditions", .message([1: ("uid", .string), 2: ("resourceVersion", .string)])),
            3: ("orphanDependents", .bool), 4: ("propagationPolicy", .string), 5: ("dryRun", .repeated(.string)),
        ]),
        "ServiceAccount": .message([
            1: ("metadata", objectMeta), 3: ("imagePullSecrets", .repeated(localObjectReference)), 4: ("automountServiceAccountToken", .bool),
        ]),
    ]

    static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]  // "k8s\0"

    static func decode(_ body: [UInt8]) throws -> JSONValue {
        guard body.count >= 4, Array(body[0..<4]) == magic else { throw Failure(message: "not a Kubernetes protobuf body (missing the k8s\\0 prefix)") }
        var envelope = Reader(bytes: body, index: 4, end: body.count)
        var apiVersion = "", kind = ""
        var raw: (Int, Int)?
        while !envelope.atEnd {
            let (field, wire) = try envelope.tag()
            switch (field, wire) {
            case (1, 2):
                var typeMeta = try envelope.sub()
                while !typeMeta.atEnd {
                    let (f, w) = try typeMeta.tag()
                    if f == 1 && w == 2 { apiVersion = try typeMeta.string() } else if f == 2 && w == 2 { kind = try typeMeta.string() } else { try typeMeta.skip(w) }
                }
            case (2, 2):
                let sub = try envelope.sub()
                raw = (sub.index, sub.end)
            default:
                try envelope.skip(wire)
            }
        }
        guard let schema = kinds[kind] else {
            throw Failure(message: "protobuf bodies are accepted for Namespace, ConfigMap, Secret, ServiceAccount and DeleteOptions only, not \(kind.isEmpty ? "an unnamed kind" : kind); send JSON")
        }
        guard let (start, end) = raw else { throw Failure(message: "the protobuf envelope has no object") }
        var reader = Reader(bytes: body, index: start, end: end)
        guard case .object(var o) = try value(&reader, schema) else { throw Failure(message: "malformed object") }
        o["apiVersion"] = .string(apiVersion)
        o["kind"] = .string(kind)
        return .object(o)
    }

    /// Reads a whole message (reader spans exactly its bytes) as a JSON object.
    static func value(_ r: inout Reader, _ schema: Field) throws -> JSONValue {
        guard case .message(let fields) = schema else { throw Failure(message: "internal: not a message schema") }
        var o = JSONObject()
        while !r.atEnd {
            let (number, wire) = try r.tag()
            guard let (name, kind) = fields[number] else {
                try r.skip(wire)
                continue
            }
            switch kind {
            case .repeated(let element):
                var items = o[name]?.arrayValue ?? []
                items.append(try scalar(&r, element, wire))
                o[name] = .array(items)
            case .map(let valueKind):
                var entry = try r.sub()
                var key = "", v: JSONValue = valueKind.isBytes ? .string("") : .string("")
                while !entry.atEnd {
                    let (f, w) = try entry.tag()
                    if f == 1 { key = try entry.string() } else if f == 2 { v = try scalar(&entry, valueKind, w) } else { try entry.skip(w) }
                }
                var map = o[name]?.objectValue ?? JSONObject()
                map[key] = v
                o[name] = .object(map)
            default:
                o[name] = try scalar(&r, kind, wire)
            }
        }
        return .object(o)
    }

    static func scalar(_ r: inout Reader, _ kind: Field, _ wire: Int) throws -> JSONValue {
        switch kind {
        case .string: return .string(try r.string())
        case .bytes: return .string(Data(try r.lengthDelimited()).base64EncodedString())
        case .int64: return .int(Int64(bitPattern: try r.varint()))
        case .bool: return .bool(try r.varint() != 0)
        case .time:
            var t = try r.sub()
            var seconds: Int64 = 0
            while !t.atEnd {
                let (f, w) = try t.tag()
                if f == 1 { seconds = Int64(bitPattern: try t.varint()) } else { try t.skip(w) }
            }
            return .string(Timestamp(secondsSinceEpoch: seconds).rfc3339)
        case .message:
            var sub = try r.sub()
            return try value(&sub, kind)
        case .repeated, .map:
            throw Failure(message: "internal: nested repeated field")
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var index: Int
        let end: Int

        var atEnd: Bool { index >= end }

        mutating func varint() throws -> UInt64 {
            var result: UInt64 = 0, shift: UInt64 = 0
            while true {
                guard index < end, shift < 64 else { throw Failure(message: "truncated or oversized varint") }
                let b = bytes[index]
                index += 1
                result |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
            }
        }

        mutating func tag() throws -> (Int, Int) {
            let t = try varint()
            guard t >> 3 > 0, t >> 3 < 1 << 29 else { throw Failure(message: "invalid field number") }
            return (Int(t >> 3), Int(t & 7))
        }

        mutating func sub() throws -> Reader {
            let length = try varint()
            guard length <= UInt64(end - index) else { throw Failure(message: "length beyond the end of the message") }
            let r = Reader(bytes: bytes, index: index, end: index + Int(length))
            index += Int(length)
            return r
        }

        mutating func lengthDelimited() throws -> [UInt8] {
            let s = try sub()
            return Array(bytes[s.index..<s.end])
        }

        mutating func string() throws -> String {
            guard let s = String(validating: try lengthDelimited(), as: UTF8.self) else { throw Failure(message: "a string field is not UTF-8") }
            return s
        }

        mutating func skip(_ wire: Int) throws {
            switch wire {
            case 0: _ = try varint()
            case 1: guard index + 8 <= end else { throw Failure(message: "truncated fixed64") }; index += 8
            case 2: _ = try sub()
            case 5: guard index + 4 <= end else { throw Failure(message: "truncated fixed32") }; index += 4
            default: throw Failure(message: "unsupported wire type \(wire)")
            }
        }
    }
}

extension ProtobufDecoder.Field {
    var isBytes: Bool {
        if case .bytes = self { return true }
        return false
    }
}
