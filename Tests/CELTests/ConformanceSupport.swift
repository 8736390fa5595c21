import Testing

@testable import CEL

/// One conformance case: an expression, its bindings, and the value or error it must give.
struct Case: CustomStringConvertible, Sendable {
    enum Expect: Sendable {
        case value(Value)
        case error
    }
    var name: String
    var expr: String
    var expect: Expect
    var bindings: [String: Value] = [:]
    var description: String { name }
}

func ok(_ name: String, _ expr: String, _ value: Value, _ bindings: [String: Value] = [:]) -> Case {
    Case(name: name, expr: expr, expect: .value(value), bindings: bindings)
}

func fails(_ name: String, _ expr: String, _ bindings: [String: Value] = [:]) -> Case {
    Case(name: name, expr: expr, expect: .error, bindings: bindings)
}

func list(_ items: Value...) -> Value { .list(items) }

func map(_ pairs: (Value, Value)...) -> Value { .map(try! MapValue(pairs)) }

/// Equal in value and in type, all the way down (1 and 1u are equal in CEL but not the
/// same result).
func same(_ a: Value, _ b: Value) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)): return x == y || (x.isNaN && y.isNaN)
    case (.list(let x), .list(let y)): return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
    case (.map(let x), .map(let y)):
        return x.count == y.count && x.entries.allSatisfy { e in y.entries.contains { same($0.key, e.key) && same($0.value, e.value) } }
    default: return a.typeName == b.typeName && Value.equal(a, b) == true
    }
}

/// Runs the cases and returns the failures, each described.
func failures(_ cases: [Case]) -> [String] {
    cases.compactMap { c in
        do {
            let got = try Program(c.expr).evaluate(c.bindings)
            switch c.expect {
            case .value(let want): return same(got, want) ? nil : "\(c.name): \(c.expr) gave \(got), want \(want)"
            case .error: return "\(c.name): \(c.expr) gave \(got), want an error"
            }
        } catch {
            if case .error = c.expect { return nil }
            return "\(c.name): \(c.expr) failed: \(error)"
        }
    }
}
