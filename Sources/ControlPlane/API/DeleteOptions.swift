import KubeModel

/// What a DELETE asks for, from its `DeleteOptions` body (kubectl) or query parameters.
struct DeleteOptions: Sendable {
    enum Propagation: String, Sendable {
        case background = "Background", foreground = "Foreground", orphan = "Orphan"
    }

    var propagation: Propagation?
    var uid: String?
    var resourceVersion: String?
    var dryRun = false
    /// Seconds a Pod gets to shut down; nil takes the Pod's own terminationGracePeriodSeconds.
    var gracePeriodSeconds: Int64?

    init(propagation: Propagation? = nil) { self.propagation = propagation }

    init(_ r: APIRequest) throws(APIError) {
        var body = JSONValue.object(JSONObject())
        if !r.body.isEmpty {
            do {
                // client-go's typed clients send DeleteOptions as protobuf.
                body = r.mediaType?.contains("protobuf") == true ? try ProtobufDecoder.decode(r.body) : try JSONText.parse(r.body)
            } catch {
                throw APIError.badRequest("invalid DeleteOptions body: \(error)")
            }
            guard case .object = body else { throw APIError.badRequest("the DeleteOptions body must be a JSON object, not \(body.typeName)") }
        }
        var policy = r.query["propagationPolicy"] ?? body["propagationPolicy"]?.stringValue
        if policy == nil, let orphan = r.query["orphanDependents"].map({ $0 == "true" }) ?? body["orphanDependents"]?.boolValue {
            policy = orphan ? "Orphan" : "Background"
        }
        if let policy, !policy.isEmpty {
            guard let p = Propagation(rawValue: policy) else {
                throw APIError.badRequest("propagationPolicy must be Background, Foreground or Orphan, not \"\(policy)\"")
            }
            propagation = p
        }
        uid = body["preconditions"]?["uid"]?.stringValue
        resourceVersion = body["preconditions"]?["resourceVersion"]?.stringValue
        dryRun = r.query["dryRun"] == "All" || body["dryRun"]?.arrayValue?.contains("All") == true
        if let text = r.query["gracePeriodSeconds"] {
            guard let g = Int64(text), g >= 0 else { throw APIError.badRequest("gracePeriodSeconds must be a non-negative integer, not \"\(text)\"") }
            gracePeriodSeconds = g
        } else if let v = body["gracePeriodSeconds"] {
            guard let g = v.intValue, g >= 0 else { throw APIError.badRequest("gracePeriodSeconds must be a non-negative integer") }
            gracePeriodSeconds = g
        }
    }
}
