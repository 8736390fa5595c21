import Foundation
import KubeModel

/// Decodes Kubernetes protobuf request bodies (the `k8s\0` envelope around a `runtime.Unknown`)
/// into JSON, for the built-in kinds kubectl's typed commands send that way (`create namespace`,
/// `create configmap`, `create secret`, `create serviceaccount`, `create deployment`, `run`,
/// `create service`, `expose`). Field numbers follow the upstream `generated.proto` files.
///
/// Go's protobuf encoder writes every non-pointer field, zero or not, while its JSON omits
/// most zero values; zero values are dropped here the same way (see `Field`). A field this
/// table does not know is skipped when it holds a zero value, and refused when it holds data,
/// so nothing a client sent is silently lost: it is told to send JSON instead.
enum ProtobufDecoder {
    struct Failure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    indirect enum Field: Sendable {
        /// Dropped when empty (Go's `omitempty` strings).
        case string
        case bytes
        /// A pointer integer: kept even when zero (`replicas: 0` means something).
        case int64
        /// A plain integer: dropped when zero.
        case count
        /// A pointer bool: kept even when false.
        case bool
        /// A plain bool: dropped when false.
        case flag
        case time
        /// `intstr.IntOrString`: a JSON number or string.
        case intOrString
        /// `resource.Quantity`: its string form.
        case quantity
        case message([Int: (String, Field)])
        /// An embedded Go struct whose fields JSON shows in the parent (`LocalObjectReference`).
        case inline([Int: (String, Field)])
        case repeated(Field)
        case map(Field)  // string keys; the value kind
    }

    static let ownerReference: Field = .message([
        1: ("kind", .string), 3: ("name", .string), 4: ("uid", .string), 5: ("apiVersion", .string), 6: ("controller", .bool),
        7: ("blockOwnerDeletion", .bool),
    ])
    static let objectMeta: Field = .message([
        1: ("name", .string), 2: ("generateName", .string), 3: ("namespace", .string), 5: ("uid", .string), 6: ("resourceVersion", .string),
        7: ("generation", .count), 8: ("creationTimestamp", .time), 9: ("deletionTimestamp", .time), 10: ("deletionGracePeriodSeconds", .int64),
        11: ("labels", .map(.string)), 12: ("annotations", .map(.string)), 13: ("ownerReferences", .repeated(ownerReference)),
        14: ("finalizers", .repeated(.string)),
    ])
    static let localObjectReference: Field = .message([1: ("name", .string)])
    static let labelSelector: Field = .message([
        1: ("matchLabels", .map(.string)),
        2: ("matchExpressions", .repeated(.message([1: ("key", .string), 2: ("operator", .string), 3: ("values", .repeated(.string))]))),
    ])
    /// `LocalObjectReference` embedded in a selector: its `name` shows in the parent.
    static let inlineName: Field = .inline([1: ("name", .string)])
    static let keySelector: Field = .message([1: ("", inlineName), 2: ("key", .string), 3: ("optional", .bool)])
    /// `ConfigMapEnvSource` and `SecretEnvSource` share this shape.
    static let envSource: Field = .message([1: ("", inlineName), 2: ("optional", .bool)])
    static let envVar: Field = .message([
        1: ("name", .string), 2: ("value", .string),
        3: (
            "valueFrom",
            .message([
                1: ("fieldRef", .message([1: ("apiVersion", .string), 2: ("fieldPath", .string)])),
                2: ("resourceFieldRef", .message([1: ("containerName", .string), 2: ("resource", .string), 3: ("divisor", .quantity)])),
                3: ("configMapKeyRef", keySelector), 4: ("secretKeyRef", keySelector),
            ])
        ),
    ])
    static let envFromSource: Field = .message([
        1: ("prefix", .string),
        2: ("configMapRef", envSource), 3: ("secretRef", envSource),
    ])
    static let container: Field = .message([
        1: ("name", .string), 2: ("image", .string), 3: ("command", .repeated(.string)), 4: ("args", .repeated(.string)), 5: ("workingDir", .string),
        6: (
            "ports",
            .repeated(.message([1: ("name", .string), 2: ("hostPort", .count), 3: ("containerPort", .count), 4: ("protocol", .string), 5: ("hostIP", .string)]))
        ),
        7: ("env", .repeated(envVar)),
        8: (
            "resources",
            .message([
                1: ("limits", .map(.quantity)), 2: ("requests", .map(.quantity)),
                3: ("claims", .repeated(.message([1: ("name", .string), 2: ("request", .string)]))),
            ])
        ),
        9: (
            "volumeMounts",
            .repeated(
                .message([
                    1: ("name", .string), 2: ("readOnly", .flag), 3: ("mountPath", .string), 4: ("subPath", .string), 5: ("mountPropagation", .string),
                    6: ("subPathExpr", .string),
                ]))
        ),
        13: ("terminationMessagePath", .string), 14: ("imagePullPolicy", .string), 16: ("stdin", .flag), 17: ("stdinOnce", .flag), 18: ("tty", .flag),
        19: ("envFrom", .repeated(envFromSource)), 20: ("terminationMessagePolicy", .string),
    ])
    static let podSpec: Field = .message([
        2: ("containers", .repeated(container)), 3: ("restartPolicy", .string), 4: ("terminationGracePeriodSeconds", .int64),
        5: ("activeDeadlineSeconds", .int64), 6: ("dnsPolicy", .string), 7: ("nodeSelector", .map(.string)), 8: ("serviceAccountName", .string),
        9: ("serviceAccount", .string), 10: ("nodeName", .string), 11: ("hostNetwork", .flag), 12: ("hostPID", .flag), 13: ("hostIPC", .flag),
        15: ("imagePullSecrets", .repeated(localObjectReference)), 16: ("hostname", .string), 17: ("subdomain", .string), 19: ("schedulerName", .string),
        20: ("initContainers", .repeated(container)), 21: ("automountServiceAccountToken", .bool), 24: ("priorityClassName", .string),
        27: ("shareProcessNamespace", .bool), 29: ("runtimeClassName", .string), 30: ("enableServiceLinks", .bool),
    ])
    static let podTemplateSpec: Field = .message([1: ("metadata", objectMeta), 2: ("spec", podSpec)])
    /// Status is written by controllers, never by kubectl's generators: only its (zero) shape.
    static let emptyStatus: Field = .message([:])

    static let resourceAttributes: Field = .message([
        1: ("namespace", .string), 2: ("verb", .string), 3: ("group", .string), 4: ("version", .string), 5: ("resource", .string),
        6: ("subresource", .string), 7: ("name", .string),
    ])

    static let policyRule: Field = .message([
        1: ("verbs", .repeated(.string)), 2: ("apiGroups", .repeated(.string)), 3: ("resources", .repeated(.string)),
        4: ("resourceNames", .repeated(.string)), 5: ("nonResourceURLs", .repeated(.string)),
    ])
    static let roleBinding: Field = .message([
        1: ("metadata", objectMeta),
        2: ("subjects", .repeated(.message([1: ("kind", .string), 2: ("apiGroup", .string), 3: ("name", .string), 4: ("namespace", .string)]))),
        3: ("roleRef", .message([1: ("apiGroup", .string), 2: ("kind", .string), 3: ("name", .string)])),
    ])

    static let kinds: [String: Field] = [
        // authorization.k8s.io and authentication.k8s.io: `kubectl auth can-i`, `auth whoami`, `create token`.
        "SelfSubjectAccessReview": .message([
            1: ("metadata", objectMeta),
            2: ("spec", .message([1: ("resourceAttributes", resourceAttributes), 2: ("nonResourceAttributes", .message([1: ("path", .string), 2: ("verb", .string)]))])),
            3: ("status", emptyStatus),
        ]),
        "SelfSubjectRulesReview": .message([1: ("metadata", objectMeta), 2: ("spec", .message([1: ("namespace", .string)])), 3: ("status", emptyStatus)]),
        "SelfSubjectReview": .message([
            1: ("metadata", objectMeta),
            2: ("status", .message([1: ("userInfo", .message([1: ("username", .string), 2: ("uid", .string), 3: ("groups", .repeated(.string))]))])),
        ]),
        // rbac.authorization.k8s.io: `kubectl create role|clusterrole|rolebinding|clusterrolebinding`.
        "Role": .message([1: ("metadata", objectMeta), 2: ("rules", .repeated(policyRule))]),
        "ClusterRole": .message([
            1: ("metadata", objectMeta), 2: ("rules", .repeated(policyRule)),
            3: ("aggregationRule", .message([1: ("clusterRoleSelectors", .repeated(labelSelector))])),
        ]),
        "RoleBinding": roleBinding,
        "ClusterRoleBinding": roleBinding,
        "TokenRequest": .message([
            1: ("metadata", objectMeta),
            2: (
                "spec",
                .message([
                    1: ("audiences", .repeated(.string)),
                    3: ("boundObjectRef", .message([1: ("kind", .string), 2: ("apiVersion", .string), 3: ("name", .string), 4: ("uid", .string)])),
                    4: ("expirationSeconds", .int64),
                ])
            ),
            3: ("status", emptyStatus),
        ]),
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
        "Deployment": .message([
            1: ("metadata", objectMeta),
            2: (
                "spec",
                .message([
                    1: ("replicas", .int64), 2: ("selector", labelSelector), 3: ("template", podTemplateSpec),
                    4: (
                        "strategy",
                        .message([1: ("type", .string), 2: ("rollingUpdate", .message([1: ("maxUnavailable", .intOrString), 2: ("maxSurge", .intOrString)]))])
                    ),
                    5: ("minReadySeconds", .count), 6: ("revisionHistoryLimit", .int64), 7: ("paused", .flag), 9: ("progressDeadlineSeconds", .int64),
                ])
            ),
            3: ("status", emptyStatus),
        ]),
        "Pod": .message([1: ("metadata", objectMeta), 2: ("spec", podSpec), 3: ("status", emptyStatus)]),
        "Service": .message([
            1: ("metadata", objectMeta),
            2: (
                "spec",
                .message([
                    1: (
                        "ports",
                        .repeated(
                            .message([
                                1: ("name", .string), 2: ("protocol", .string), 3: ("port", .count), 4: ("targetPort", .intOrString), 5: ("nodePort", .count),
                                6: ("appProtocol", .string),
                            ]))
                    ),
                    2: ("selector", .map(.string)), 3: ("clusterIP", .string), 4: ("type", .string), 5: ("externalIPs", .repeated(.string)),
                    7: ("sessionAffinity", .string), 8: ("loadBalancerIP", .string), 9: ("loadBalancerSourceRanges", .repeated(.string)),
                    10: ("externalName", .string), 11: ("externalTrafficPolicy", .string), 12: ("healthCheckNodePort", .count),
                    13: ("publishNotReadyAddresses", .flag),
                ])
            ),
            3: ("status", .message([1: ("loadBalancer", emptyStatus)])),
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
            let known = kinds.keys.sorted().joined(separator: ", ")
            throw Failure(message: "protobuf bodies are accepted for \(known) only, not \(kind.isEmpty ? "an unnamed kind" : kind); send JSON")
        }
        guard let (start, end) = raw else { throw Failure(message: "the protobuf envelope has no object") }
        var reader = Reader(bytes: body, index: start, end: end)
        guard case .object(var o) = try value(&reader, schema, path: kind) else { throw Failure(message: "malformed object") }
        o["apiVersion"] = .string(apiVersion)
        o["kind"] = .string(kind)
        return .object(o)
    }

    /// Reads a whole message (reader spans exactly its bytes) as a JSON object; `path` names
    /// it in errors.
    static func value(_ r: inout Reader, _ schema: Field, path: String) throws -> JSONValue {
        let fields: [Int: (String, Field)]
        switch schema {
        case .message(let f), .inline(let f): fields = f
        default: throw Failure(message: "internal: not a message schema")
        }
        var o = JSONObject()
        while !r.atEnd {
            let (number, wire) = try r.tag()
            guard let (name, kind) = fields[number] else {
                guard try r.skipZero(wire) else {
                    throw Failure(message: "\(path) field \(number) is not one llmops decodes from protobuf, and it holds data; send the object as JSON (kubectl create -f or apply)")
                }
                continue
            }
            let fieldPath = name.isEmpty ? path : "\(path).\(name)"
            switch kind {
            case .repeated(let element):
                var items = o[name]?.arrayValue ?? []
                // In a list every element counts, zero values included (an empty argument).
                items.append(try scalar(&r, element, wire, path: fieldPath) ?? element.zero)
                o[name] = .array(items)
            case .map(let valueKind):
                var entry = try r.sub()
                var key = "", v: JSONValue = .string("")
                while !entry.atEnd {
                    let (f, w) = try entry.tag()
                    if f == 1 { key = try entry.string() } else if f == 2 { v = try scalar(&entry, valueKind, w, path: fieldPath) ?? valueKind.zero } else { try entry.skip(w) }
                }
                var map = o[name]?.objectValue ?? JSONObject()
                map[key] = v
                o[name] = .object(map)
            case .inline:
                var sub = try r.sub()
                for (k, v) in try value(&sub, kind, path: path).objectValue ?? JSONObject() { o[k] = v }
            default:
                o[name] = try scalar(&r, kind, wire, path: fieldPath)
            }
        }
        return .object(o)
    }

    /// One field's value; nil for a zero value JSON would omit.
    static func scalar(_ r: inout Reader, _ kind: Field, _ wire: Int, path: String) throws -> JSONValue? {
        switch kind {
        case .string:
            let s = try r.string()
            return s.isEmpty ? nil : .string(s)
        case .bytes: return .string(Data(try r.lengthDelimited()).base64EncodedString())
        case .int64: return .int(Int64(bitPattern: try r.varint()))
        case .count:
            let n = Int64(bitPattern: try r.varint())
            return n == 0 ? nil : .int(n)
        case .bool: return .bool(try r.varint() != 0)
        case .flag: return try r.varint() != 0 ? .bool(true) : nil
        case .time:
            var t = try r.sub()
            // Go writes a zero time as an empty message; JSON has it as null, i.e. absent.
            if t.atEnd { return nil }
            var seconds: Int64 = 0
            while !t.atEnd {
                let (f, w) = try t.tag()
                if f == 1 { seconds = Int64(bitPattern: try t.varint()) } else { try t.skip(w) }
            }
            return .string(Timestamp(secondsSinceEpoch: seconds).rfc3339)
        case .intOrString:
            var m = try r.sub()
            var isString = false, number: Int64 = 0, text = ""
            while !m.atEnd {
                let (f, w) = try m.tag()
                switch f {
                case 1: isString = try m.varint() == 1
                case 2: number = Int64(bitPattern: try m.varint())
                case 3: text = try m.string()
                default: try m.skip(w)
                }
            }
            return isString ? .string(text) : .int(number)
        case .quantity:
            var m = try r.sub()
            var text = ""
            while !m.atEnd {
                let (f, w) = try m.tag()
                if f == 1 { text = try m.string() } else { try m.skip(w) }
            }
            return .string(text)
        case .message, .inline:
            var sub = try r.sub()
            return try value(&sub, kind, path: path)
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

        /// Skips a field; true when it held a zero value (0, false, empty string or message).
        mutating func skipZero(_ wire: Int) throws -> Bool {
            switch wire {
            case 0: return try varint() == 0
            case 2: return try sub().atEnd
            default:
                try skip(wire)
                return false
            }
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
    /// The JSON value of a zero this kind's JSON form would otherwise omit.
    var zero: JSONValue {
        switch self {
        case .count, .int64: return .int(0)
        case .flag, .bool: return .bool(false)
        default: return .string("")
        }
    }
}
