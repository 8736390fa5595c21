import LLMOpsAPI
import LLMOpsCore
import Synchronization

/// The core's serving decisions, remembered per spec. `ServingDecision.decide` is a pure
/// function of the spec and the catalogue, and all three controllers ask it on every
/// reconcile; searching every GPU type and tensor-parallel degree each time would make the
/// optimizer, not the API, the cost of a steady-state reconcile.
final class ServingDecisions: Sendable {
    let catalog: GPUCatalog
    private let cache = Mutex<[LLMDeploymentSpec: Result<ServingDecision, CoreError>]>([:])
    /// Distinct specs kept; beyond it the cache starts again (a fleet has far fewer).
    static let limit = 10_000

    init(catalog: GPUCatalog) {
        self.catalog = catalog
    }

    func decide(_ spec: LLMDeploymentSpec) -> Result<ServingDecision, CoreError> {
        if let known = cache.withLock({ $0[spec] }) { return known }
        let result = ServingDecision.decide(spec, catalog: catalog)
        cache.withLock { c in
            if c.count >= Self.limit { c.removeAll(keepingCapacity: true) }
            c[spec] = result
        }
        return result
    }
}
