import Foundation
import LLMOpsCore

/// The simulated nodes of `llmops up`: groups of identical GPU nodes plus CPU nodes for
/// everything that needs no GPU.
public struct ClusterTopology: Sendable, Hashable {
    /// `count` nodes of `gpusPerNode` GPUs of one type (a name from the GPU catalogue).
    public struct Group: Sendable, Hashable {
        public var gpuType: String
        public var nodes: Int
        public var gpusPerNode: Int
        public init(gpuType: String, nodes: Int, gpusPerNode: Int) {
            self.gpuType = gpuType
            self.nodes = nodes
            self.gpusPerNode = gpusPerNode
        }
    }

    public var groups: [Group]
    public var cpuNodes: Int
    /// Zones the nodes of each group are spread over, round robin.
    public var zones: [String]

    public init(groups: [Group], cpuNodes: Int = 1, zones: [String] = ["zone-a", "zone-b", "zone-c"]) {
        self.groups = groups
        self.cpuNodes = cpuNodes
        self.zones = zones
    }

    /// Two 8×H100 and two 4×L40S nodes: enough for a canary of an 8B model and a 70B model.
    public static let defaultSpec = "h100:2x8,l40s:2x4"

    /// Short names users type, by catalogue name.
    static let aliases: [String: String] = [
        "h100": "H100", "h200": "H200", "a100": "A100-80GB", "a100-80gb": "A100-80GB", "a100-40gb": "A100-40GB",
        "l40s": "L40S", "l4": "L4", "a10g": "A10G",
    ]

    /// Reads `h100:2x8,l40s:4x4` (type:NODESxGPUS, comma-separated; a config file may hold the
    /// same, one group per line, `#` comments allowed).
    public static func parse(_ text: String) throws(TopologyError) -> ClusterTopology {
        var groups: [Group] = []
        let items = text.split(whereSeparator: { $0 == "," || $0 == "\n" }).map { item in
            String(item.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "").trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        for item in items {
            let parts = item.split(separator: ":")
            guard parts.count == 2 else { throw TopologyError("\"\(item)\": expected TYPE:NODESxGPUS, e.g. h100:2x8") }
            let name = parts[0].lowercased()
            guard let type = aliases[name] ?? GPUCatalog.standard.names.first(where: { $0.lowercased() == name }) else {
                throw TopologyError("\"\(item)\": unknown GPU type \"\(parts[0])\"; known: \(aliases.keys.sorted().joined(separator: ", "))")
            }
            let shape = parts[1].lowercased().split(separator: "x")
            guard shape.count == 2, let nodes = Int(shape[0]), let gpus = Int(shape[1]) else {
                throw TopologyError("\"\(item)\": expected NODESxGPUS after the colon, e.g. 2x8")
            }
            guard (1...5000).contains(nodes) else { throw TopologyError("\"\(item)\": nodes must be between 1 and 5000") }
            guard [1, 2, 4, 8, 16].contains(gpus) else { throw TopologyError("\"\(item)\": GPUs per node must be 1, 2, 4, 8 or 16") }
            if groups.contains(where: { $0.gpuType == type }) { throw TopologyError("\"\(item)\": \(type) is listed twice") }
            groups.append(Group(gpuType: type, nodes: nodes, gpusPerNode: gpus))
        }
        guard !groups.isEmpty else { throw TopologyError("no GPU groups given; expected e.g. \(defaultSpec)") }
        return ClusterTopology(groups: groups)
    }

    /// Every node to register, in a stable order.
    public var nodes: [SimulatedNode] {
        var out: [SimulatedNode] = []
        for i in 0..<cpuNodes {
            out.append(SimulatedNode(name: "cpu-\(i)", zone: zones[i % zones.count], gpuType: nil, gpus: 0))
        }
        for g in groups {
            let prefix = "gpu-\(g.gpuType.lowercased())"
            for i in 0..<g.nodes {
                out.append(SimulatedNode(name: "\(prefix)-\(i)", zone: zones[i % zones.count], gpuType: g.gpuType, gpus: g.gpusPerNode))
            }
        }
        return out
    }
}

public struct TopologyError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ message: String) { description = "--gpus: " + message }
}
