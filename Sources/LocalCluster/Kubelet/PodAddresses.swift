import Synchronization

/// Pod IPs from the loopback range (Linux routes all of 127.0.0.0/8 to `lo`), so each Pod's
/// server listens on its own address and port 8000 as in a real cluster: 127.10.0.1 upwards.
final class PodAddresses: Sendable {
    private let used = Mutex<Set<UInt32>>([])
    private let next = Mutex<UInt32>(1)
    static let base: UInt32 = (127 << 24) | (10 << 16)
    static let size: UInt32 = 1 << 20

    /// Marks an address in use (a Pod that already has one, after a restart).
    func claim(_ ip: String) {
        if let v = Self.parse(ip) { _ = used.withLock { $0.insert(v) } }
    }

    func release(_ ip: String) {
        if let v = Self.parse(ip) { _ = used.withLock { $0.remove(v) } }
    }

    /// A free address; nil when the range is exhausted.
    func allocate() -> String? {
        used.withLock { used -> String? in
            next.withLock { n -> String? in
                for _ in 0..<Self.size {
                    let candidate = Self.base + n
                    n = n % (Self.size - 2) + 1
                    // Skip .0 and .255 host parts, which some tools treat as network/broadcast.
                    let last = candidate & 0xff
                    if last == 0 || last == 255 || used.contains(candidate) { continue }
                    used.insert(candidate)
                    return Self.format(candidate)
                }
                return nil
            }
        }
    }

    static func parse(_ ip: String) -> UInt32? {
        let parts = ip.split(separator: ".").compactMap { UInt32($0) }
        guard parts.count == 4, parts.allSatisfy({ $0 < 256 }) else { return nil }
        return parts.reduce(0) { $0 << 8 | $1 }
    }

    static func format(_ v: UInt32) -> String { "\(v >> 24).\((v >> 16) & 0xff).\((v >> 8) & 0xff).\(v & 0xff)" }
}
