import AsyncHTTPClient
import Foundation
import KubeModel
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// HTTPS to one API server: TLS from the configuration, bearer tokens, client-side
/// throttling, deadlines, and `Status` bodies mapped to `KubeAPIError`.
final class HTTPTransport: Sendable {
    let configuration: ClientConfiguration
    private let http: HTTPClient
    private let tokens: TokenSource
    private let throttle: RequestThrottle
    /// Responses larger than this are refused rather than buffered (a list of 10,000 objects
    /// with big statuses stays well under it).
    static let maxResponseBytes = 512 << 20

    init(_ configuration: ClientConfiguration) throws(KubeConfigError) {
        self.configuration = configuration
        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let ca = configuration.certificateAuthorityPEM {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            }
            if let cert = configuration.clientCertificatePEM, let key = configuration.clientKeyPEM {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(cert).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
            }
        } catch {
            throw KubeConfigError(source: configuration.server, field: "tls", message: "cannot load certificates or key: \(error)")
        }
        if configuration.insecureSkipTLSVerify { tls.certificateVerification = .none }
        var config = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(10), read: nil))
        // Watches hold a connection each; leave room for them beside ordinary requests.
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        // Fail fast when the server is down; callers (informers, work queues) own the retry policy.
        config.connectionPool.retryConnectionEstablishment = false
        config.redirectConfiguration = .disallow
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        tokens = TokenSource(configuration.credentials, refresh: configuration.tokenRefreshInterval)
        throttle = RequestThrottle(qps: configuration.qps, burst: configuration.burst)
    }

    func shutdown() async {
        try? await http.shutdown()
    }

    func makeRequest(_ method: HTTPMethod, _ path: String, query: [(String, String)], body: [UInt8]?, contentType: String?, accept: String = "application/json") -> HTTPClientRequest {
        var url = configuration.server + path
        if !query.isEmpty {
            url += "?" + query.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        if let token = tokens.token() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// One request with a buffered response body; non-2xx answers become `KubeAPIError`.
    func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String? = nil, timeout: Duration? = nil) async throws -> [UInt8] {
        try await throttle.acquire()
        let request = makeRequest(method, path, query: query, body: body, contentType: contentType)
        let limit = timeout ?? configuration.timeout
        let deadline = NIODeadline.now() + .nanoseconds(Int64(limit.seconds * 1e9))
        do {
            let response: HTTPClientResponse
            do {
                response = try await http.execute(request, deadline: deadline)
            } catch {
                configuration.requestObserver?(method.rawValue, 0)
                throw error
            }
            configuration.requestObserver?(method.rawValue, Int(response.status.code))
            let buffer = try await response.body.collect(upTo: Self.maxResponseBytes)
            let bytes = Array(buffer.readableBytesView)
            guard (200..<300).contains(Int(response.status.code)) else { throw Self.error(response, body: bytes) }
            return bytes
        } catch let error as KubeAPIError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw KubeAPIError.timeout("\(method) \(path) did not finish within \(limit)")
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw KubeAPIError.transport("\(method) \(path): \(error)")
        }
    }

    /// A non-2xx answer as the typed error its `Status` body (and Retry-After) describes.
    private static func error(_ response: HTTPClientResponse, body: [UInt8]) -> KubeAPIError {
        KubeAPIError.from(statusCode: Int(response.status.code), body: body, retryAfterHeader: response.headers.first(name: "Retry-After"))
    }

    /// A streaming GET (watch), its newline-delimited body handed on in batches. One task
    /// reads the body and splits it into lines; another takes all the lines that arrived
    /// meanwhile and passes them through `transform` as one batch (see `LineBatches`), so a
    /// burst is decoded and handed to the consumer in a few large steps rather than one per
    /// line. Errors `transform` throws end the stream as they are.
    func stream<Element: Sendable>(
        _ path: String, query: [(String, String)], deadline: Duration, transform: @escaping @Sendable ([[UInt8]]) async throws -> Element
    ) async throws -> AsyncThrowingStream<Element, Error> {
        try await throttle.acquire()
        let request = makeRequest(.GET, path, query: query, body: nil, contentType: nil)
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, deadline: .now() + .nanoseconds(Int64(deadline.seconds * 1e9)))
            configuration.requestObserver?("GET", Int(response.status.code))
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            configuration.requestObserver?("GET", 0)
            throw KubeAPIError.transport("watch \(path): \(error)")
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            throw Self.error(response, body: (try? await response.body.collect(upTo: 1 << 20)).map { Array($0.readableBytesView) } ?? [])
        }
        let lines = LineBatches()
        return AsyncThrowingStream { continuation in
            let reader = Task {
                var pending: [UInt8] = []
                do {
                    for try await chunk in response.body {
                        pending.append(contentsOf: chunk.readableBytesView)
                        var complete: [[UInt8]] = []
                        var start = 0
                        while let newline = pending[start...].firstIndex(of: UInt8(ascii: "\n")) {
                            if newline > start { complete.append(Array(pending[start..<newline])) }
                            start = newline + 1
                        }
                        pending.removeFirst(start)
                        await lines.append(complete)
                    }
                    if !pending.isEmpty { await lines.append([pending]) }
                    lines.finish(nil)
                } catch is CancellationError {
                    lines.finish(CancellationError())
                } catch {
                    lines.finish(KubeAPIError.transport("watch \(path) broke: \(error)"))
                }
            }
            let decoder = Task {
                do {
                    while let batch = try await lines.take() {
                        continuation.yield(try await transform(batch))
                    }
                    continuation.finish()
                } catch {
                    reader.cancel()
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in
                // Cancellation does not resume a continuation: finishing releases a reader
                // waiting for room and a decoder waiting for lines.
                lines.finish(CancellationError())
                reader.cancel()
                decoder.cancel()
            }
        }
    }
}

private let allowed: CharacterSet = {
    var set = CharacterSet.alphanumerics
    set.insert(charactersIn: "-._~")
    return set
}()

private func escape(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s }
