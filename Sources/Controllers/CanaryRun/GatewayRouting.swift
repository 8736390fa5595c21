import Foundation
import KubeClient
import KubeModel
import KubeRuntime
import LLMOpsAPI

/// Canary traffic by Gateway API weights (`spec.trafficRouting.gatewayAPI`), as Argo
/// Rollouts' Gateway API plugin and Flagger do it: the user's HTTPRoute keeps its parents,
/// matches and filters; the operator adds a Service per track (`NAME-stable`, `NAME-canary`,
/// owned by the CanaryRun) and, in every rule that sends traffic to the LLMDeployment's
/// Service, replaces that backend with the two tracks weighted by the step. The end of the
/// run puts the LLMDeployment's Service back. Every write is skipped when nothing changes.
struct GatewayRouting: Sendable {
    static let group = "gateway.networking.k8s.io"
    static let fieldManager = "llmops-canary"

    struct Failure: Error, CustomStringConvertible {
        var reason: String
        var description: String
    }

    let client: KubeClient

    static func trackService(_ target: String, _ track: String) -> String { "\(target)-\(track)" }

    static func routePath(_ namespace: String, _ name: String) -> String {
        "/apis/\(group)/v1/namespaces/\(namespace)/httproutes/\(name)"
    }

    /// The rules with the LLMDeployment's backend split `100 - weight` / `weight` between the
    /// tracks (`weight` nil: the LLMDeployment's Service alone), and whether any rule named it.
    static func rules(_ rules: [JSONValue], target: String, weight: Int?) -> (rules: [JSONValue], matched: Bool) {
        let ours: Set<String> = [target, trackService(target, ServingWorkload.stableTrack), trackService(target, ServingWorkload.canaryTrack)]
        var matched = false
        let out = rules.map { rule -> JSONValue in
            guard case .object(var r) = rule, let refs = r["backendRefs"]?.arrayValue else { return rule }
            func isOurs(_ ref: JSONValue) -> Bool {
                let kind = ref["kind"]?.stringValue ?? "Service"
                let group = ref["group"]?.stringValue ?? ""
                return kind == "Service" && group.isEmpty && ours.contains(ref["name"]?.stringValue ?? "") && ref["namespace"] == nil
            }
            guard let first = refs.first(where: isOurs) else { return rule }
            matched = true
            let port = first["port"] ?? .int(ServingWorkload.port)
            var kept = refs.filter { !isOurs($0) }
            if let weight {
                kept.append(["name": .string(trackService(target, ServingWorkload.stableTrack)), "port": port, "weight": .int(Int64(100 - weight))])
                kept.append(["name": .string(trackService(target, ServingWorkload.canaryTrack)), "port": port, "weight": .int(Int64(weight))])
            } else {
                kept.append(["name": .string(target), "port": port])
            }
            r["backendRefs"] = .array(kept)
            return .object(r)
        }
        return (out, matched)
    }

    /// Rules with the API server's backendRef defaults (`group: ""`, `kind: Service`,
    /// `weight: 1`) left out, so a route that already says what we would write is not written.
    static func normalized(_ rules: [JSONValue]) -> [JSONValue] {
        rules.map { rule in
            guard case .object(var r) = rule, let refs = r["backendRefs"]?.arrayValue else { return rule }
            r["backendRefs"] = .array(
                refs.map { ref in
                    guard case .object(var o) = ref else { return ref }
                    if o["group"] == .string("") { o["group"] = nil }
                    if o["kind"] == .string("Service") { o["kind"] = nil }
                    if o["weight"] == .int(1) { o["weight"] = nil }
                    return .object(o)
                })
            return .object(r)
        }
    }

    /// Sends `weight` percent of the route's traffic for the LLMDeployment to the canary track.
    func route(_ run: CanaryRun, routeName: String, target: String, weight: Int) async throws {
        let ns = run.metadata.namespace ?? "default"
        for track in [ServingWorkload.stableTrack, ServingWorkload.canaryTrack] {
            let name = Self.trackService(target, track)
            var meta = ObjectMeta(name: name, namespace: ns, labels: [ServingWorkload.nameLabel: target, ServingWorkload.trackLabel: track, "app.kubernetes.io/managed-by": "llmops"])
            meta.ownerReferences = run.controllerReference().map { [$0] }
            let service = KubeModel.Service(
                metadata: meta,
                spec: .init(
                    selector: [ServingWorkload.nameLabel: target, ServingWorkload.trackLabel: track],
                    ports: [.init(name: "http", port: Int32(ServingWorkload.port), targetPort: "http", protocol: "TCP")], type: "ClusterIP"))
            _ = try await client.apply(service, fieldManager: Self.fieldManager, force: true)
        }
        try await rewrite(ns, routeName, target: target, weight: weight)
    }

    /// Puts the LLMDeployment's Service back in the route and removes the track Services.
    /// A finished run whose tracks another run has taken over (their Services name that run
    /// as owner) leaves the route alone.
    func restore(_ run: CanaryRun, routeName: String, target: String) async throws {
        let ns = run.metadata.namespace ?? "default"
        if let stable = try? await client.get(KubeModel.Service.self, name: Self.trackService(target, ServingWorkload.stableTrack), namespace: ns),
            !(stable.metadata.ownerReferences ?? []).contains(where: { $0.uid == run.metadata.uid })
        {
            return
        }
        do {
            try await rewrite(ns, routeName, target: target, weight: nil)
        } catch is Failure {
            // Nothing of ours is in a route that is gone or never named the Service.
        }
        for track in [ServingWorkload.stableTrack, ServingWorkload.canaryTrack] {
            do {
                try await client.delete(KubeModel.Service.self, name: Self.trackService(target, track), namespace: ns)
            } catch let e as KubeAPIError where e.isNotFound {}
        }
    }

    private func rewrite(_ ns: String, _ routeName: String, target: String, weight: Int?) async throws {
        let route: JSONValue
        do {
            route = try await client.request("GET", Self.routePath(ns, routeName))
        } catch let e as KubeAPIError where e.isNotFound {
            let installed = (try? await client.request("GET", "/apis/\(Self.group)/v1")) != nil
            throw Failure(
                reason: installed ? "HTTPRouteNotFound" : "GatewayAPINotInstalled",
                description: installed
                    ? "HTTPRoute \(routeName) not found in namespace \(ns)"
                    : "spec.trafficRouting.gatewayAPI needs the Gateway API CRDs (\(Self.group)/v1 HTTPRoute), which are not installed; install them or remove spec.trafficRouting")
        }
        let current = route["spec"]?["rules"]?.arrayValue ?? []
        let (rules, matched) = Self.rules(current, target: target, weight: weight)
        guard matched else {
            throw Failure(
                reason: "HTTPRouteHasNoBackend",
                description: "HTTPRoute \(routeName) has no rule whose backendRefs name Service \(target); point a rule at it (port \(ServingWorkload.port)) so the canary can be weighted")
        }
        guard Self.normalized(rules) != Self.normalized(current) else { return }
        let patch: JSONValue = ["metadata": ["resourceVersion": route["metadata"]?["resourceVersion"] ?? .null], "spec": ["rules": .array(rules)]]
        _ = try await client.request(
            "PATCH", Self.routePath(ns, routeName), query: [("fieldManager", Self.fieldManager)], body: patch, contentType: "application/merge-patch+json")
    }
}
