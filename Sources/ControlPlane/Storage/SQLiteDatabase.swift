import CSQLite
import Foundation

/// A thin, synchronous wrapper over one SQLite connection. Used only from inside the
/// `ObjectStore` actor, which serialises access, so the connection is never shared across threads.
final class SQLiteDatabase {
    struct Failure: Error, CustomStringConvertible {
        var code: Int32
        var message: String
        var description: String { "sqlite error \(code): \(message)" }
    }

    private var handle: OpaquePointer?

    init(path: String) throws {
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw Failure(code: rc, message: "\(path): \(message)")
        }
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit { sqlite3_close(handle) }

    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &error)
        if rc != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "unknown"
            sqlite3_free(error)
            throw Failure(code: rc, message: message)
        }
    }

    /// Values bound to `?` parameters.
    enum Value {
        case int(Int64)
        case text(String)
        case blob([UInt8])
        case null
    }

    /// Runs a statement and returns its rows, each as column values read by `row`.
    @discardableResult
    func query<T>(_ sql: String, _ bindings: [Value] = [], row: (Row) -> T) throws -> [T] {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else { throw lastError() }
        defer { sqlite3_finalize(statement) }
        for (i, value) in bindings.enumerated() {
            let index = Int32(i + 1)
            let rc: Int32
            switch value {
            case .int(let v): rc = sqlite3_bind_int64(statement, index, v)
            case .text(let s): rc = sqlite3_bind_text(statement, index, s, -1, csqlite_transient())
            case .blob(let b): rc = b.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32(b.count), csqlite_transient()) }
            case .null: rc = sqlite3_bind_null(statement, index)
            }
            guard rc == SQLITE_OK else { throw lastError() }
        }
        var rows: [T] = []
        while true {
            let rc = sqlite3_step(statement)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else { throw lastError() }
            rows.append(row(Row(statement: statement)))
        }
        return rows
    }

    func run(_ sql: String, _ bindings: [Value] = []) throws {
        try query(sql, bindings) { _ in () }
    }

    struct Row {
        let statement: OpaquePointer?
        func int(_ i: Int32) -> Int64 { sqlite3_column_int64(statement, i) }
        func text(_ i: Int32) -> String { sqlite3_column_text(statement, i).map { String(cString: $0) } ?? "" }
        func blob(_ i: Int32) -> [UInt8] {
            let count = Int(sqlite3_column_bytes(statement, i))
            guard count > 0, let p = sqlite3_column_blob(statement, i) else { return [] }
            return Array(UnsafeRawBufferPointer(start: p, count: count))
        }
    }

    private func lastError() -> Failure {
        Failure(code: sqlite3_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
    }
}
