import ControlPlane
import Foundation
import KubeModel
import Testing

/// Protobuf bodies built by hand, field by field, as Go's encoder writes them.
private enum PB {
    static func varint(_ v: UInt64) -> [UInt8] {
        var v = v, out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        return out + [UInt8(v)]
    }
    static func bytes(_ n: Int, _ b: [UInt8]) -> [UInt8] { varint(UInt64(n << 3 | 2)) + varint(UInt64(b.count)) + b }
    static func string(_ n: Int, _ s: String) -> [UInt8] { bytes(n, Array(s.utf8)) }
    static func number(_ n: Int, _ v: Int64) -> [UInt8] { varint(UInt64(n << 3)) + varint(UInt64(bitPattern: v)) }
    static func envelope(apiVersion: String, kind: String, _ object: [UInt8]) -> [UInt8] {
        [0x6B, 0x38, 0x73, 0x00] + bytes(1, string(1, apiVersion) + string(2, kind)) + bytes(2, object)
    }
}

@Suite struct ProtobufBodyTests {
    /// Zero-valued fields Go always writes are dropped (as its JSON omits them); a field the
    /// decoder does not know is skipped when zero and refused when it holds data.
    @Test func zeroValuesDropAndUnknownDataIsRefused() async throws {
        let s = try await makeServer()
        let meta = PB.string(1, "p") + PB.string(2, "") + PB.number(7, 0) + PB.bytes(8, [])
        func pod(_ extraContainerFields: [UInt8]) -> [UInt8] {
            let container = PB.string(1, "c") + PB.string(2, "img") + PB.string(13, "") + PB.number(16, 0) + PB.bytes(15, []) + extraContainerFields
            let spec = PB.bytes(2, container) + PB.string(3, "Never") + PB.number(11, 0) + PB.string(8, "")
            return PB.envelope(apiVersion: "v1", kind: "Pod", PB.bytes(1, meta) + PB.bytes(2, spec) + PB.bytes(3, []))
        }
        let path = "/api/v1/namespaces/default/pods"
        let ok = await s.handle(APIRequest(method: "POST", path: path, query: [:], body: pod([]), contentType: "application/vnd.kubernetes.protobuf"))
        #expect(ok.status == 201, "\(ok.body)")
        let stored = ok.body
        #expect(stored["spec"]?["containers"] == [["name": "c", "image": "img"]])
        #expect(stored["spec"]?["restartPolicy"] == "Never" && stored["spec"]?["hostNetwork"] == nil && stored["metadata"]?["generateName"] == nil)

        // livenessProbe (field 10) with an exec command: data the decoder cannot name.
        let probe = PB.bytes(10, PB.bytes(1, PB.bytes(1, PB.string(1, "true"))))
        let refused = await s.handle(APIRequest(method: "POST", path: path, query: [:], body: pod(probe), contentType: "application/vnd.kubernetes.protobuf"))
        #expect(refused.status == 415)
        #expect(refused.body["message"]?.stringValue?.contains("Pod.spec.containers field 10") == true, "\(refused.body)")
    }

    @Test func intOrStringAndQuantities() async throws {
        let s = try await makeServer()
        let intOrString = PB.bytes(4, PB.number(1, 1) + PB.number(2, 0) + PB.string(3, "http"))
        let port = PB.string(1, "") + PB.string(2, "TCP") + PB.number(3, 80) + intOrString + PB.number(5, 0)
        let svc = PB.envelope(apiVersion: "v1", kind: "Service", PB.bytes(1, PB.string(1, "svc")) + PB.bytes(2, PB.bytes(1, port)))
        let created = await s.handle(APIRequest(method: "POST", path: "/api/v1/namespaces/default/services", query: [:], body: svc, contentType: "application/vnd.kubernetes.protobuf"))
        #expect(created.status == 201, "\(created.body)")
        #expect(created.body["spec"]?["ports"] == [["protocol": "TCP", "port": 80, "targetPort": "http"]])

        let quantity = PB.bytes(1, PB.string(1, "nvidia.com/gpu") + PB.bytes(2, PB.string(1, "2")))
        let container = PB.string(1, "c") + PB.string(2, "img") + PB.bytes(8, quantity)
        let pod = PB.envelope(apiVersion: "v1", kind: "Pod", PB.bytes(1, PB.string(1, "gpu")) + PB.bytes(2, PB.bytes(2, container)))
        let p = await s.handle(APIRequest(method: "POST", path: "/api/v1/namespaces/default/pods", query: [:], body: pod, contentType: "application/vnd.kubernetes.protobuf"))
        #expect(p.body["spec"]?["containers"]?.arrayValue?.first?["resources"] == ["limits": ["nvidia.com/gpu": "2"]], "\(p.body)")
    }
}
