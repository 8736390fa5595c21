import Foundation
import KubeModel
import KubeRuntime

/// Conditions as Kubernetes API conventions want them: one per type, the transition time kept
/// while the status does not change.
enum Conditions {
    static func set(_ list: inout [Condition], _ type: String, _ status: Condition.Status, reason: String, message: String, generation: Int64?, now: Timestamp) {
        if let i = list.firstIndex(where: { $0.type == type }) {
            let transition = list[i].status == status ? list[i].lastTransitionTime : now
            list[i] = Condition(type: type, status: status, observedGeneration: generation, lastTransitionTime: transition, reason: reason, message: message)
        } else {
            list.append(Condition(type: type, status: status, observedGeneration: generation, lastTransitionTime: now, reason: reason, message: message))
        }
    }

    /// Cuts `text` to `max` characters for fields with a schema limit.
    static func clip(_ text: String, _ max: Int) -> String { text.count <= max ? text : String(text.prefix(max - 1)) + "…" }
}
