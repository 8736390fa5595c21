import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

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
                    // Another process (a second `llmops up`) may serve on it already.
                    if !Self.isFree(candidate, port: 8000) { continue }
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

    /// Whether nothing listens on `address:port`: a bind with SO_REUSEADDR succeeds.
    static func isFree(_ address: UInt32, port: UInt16) -> Bool {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = port.bigEndian
        addr.sin_addr.s_addr = address.bigEndian
        let result = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
        #else
        return true
        #endif
    }
}
