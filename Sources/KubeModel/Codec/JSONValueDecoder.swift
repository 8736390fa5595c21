/// Decodes `Decodable` types from an already-parsed `JSONValue`.
///
/// Clients parse every response with `JSONText` anyway (to fill in missing type meta, to read
/// watch frames); decoding from that tree avoids a second parse. Fields typed `JSONValue` —
/// specs and status that a controller keeps as opaque JSON — are handed over as they are
/// instead of being rebuilt member by member through `Codable`, which was most of the cost of
/// decoding a list with Foundation's `JSONDecoder`.
public struct JSONValueDecoder: Sendable {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try ValueDecoder(value, path: []).unwrap(T.self)
    }
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(_ value: JSONValue, path: [any CodingKey]) {
        self.value = value
        self.codingPath = path
    }

    func unwrap<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        return try T(from: self)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch([String: Any].self, value, codingPath) }
        return KeyedDecodingContainer(KeyedContainer<Key>(object: object, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([Any].self, value, codingPath) }
        return UnkeyedContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleValue(value: value, codingPath: codingPath) }
}

private func mismatch(_ type: Any.Type, _ value: JSONValue, _ path: [any CodingKey]) -> DecodingError {
    .typeMismatch(type, .init(codingPath: path, debugDescription: "expected \(type), found \(value.typeName)"))
}

/// Scalars as Kubernetes JSON has them: integers may arrive as `1.0`, doubles as `1`.
private func scalar<T>(_ value: JSONValue, _ path: @autoclosure () -> [any CodingKey], as type: T.Type) throws -> T {
    switch (type, value) {
    case (is String.Type, .string(let s)): return s as! T
    case (is Bool.Type, .bool(let b)): return b as! T
    case (is Double.Type, _):
        if let d = value.numberValue { return d as! T }
    case (is Float.Type, _):
        if let d = value.numberValue { return Float(d) as! T }
    default: break
    }
    throw mismatch(type, value, path())
}

private func integer<T: FixedWidthInteger>(_ value: JSONValue, _ path: @autoclosure () -> [any CodingKey], as type: T.Type) throws -> T {
    guard let i = value.intValue else { throw mismatch(type, value, path()) }
    guard let exact = T(exactly: i) else {
        throw DecodingError.dataCorrupted(.init(codingPath: path(), debugDescription: "\(i) does not fit in \(type)"))
    }
    return exact
}

private struct Index: CodingKey {
    var intValue: Int?
    var stringValue: String { String(intValue!) }
    init(_ i: Int) { intValue = i }
    init?(stringValue: String) { return nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let codingPath: [any CodingKey]

    var allKeys: [Key] { object.keys.compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { object[key.stringValue] != nil }

    private func member(_ key: Key) throws -> JSONValue {
        guard let v = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for \"\(key.stringValue)\""))
        }
        return v
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try scalar(member(key), codingPath + [key], as: type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try scalar(member(key), codingPath + [key], as: type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try scalar(member(key), codingPath + [key], as: type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try scalar(member(key), codingPath + [key], as: type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(member(key), codingPath + [key], as: type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(member(key), codingPath + [key], as: type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(member(key), codingPath + [key], as: type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(member(key), codingPath + [key], as: type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(member(key), codingPath + [key], as: type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(member(key), codingPath + [key], as: type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(member(key), codingPath + [key], as: type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(member(key), codingPath + [key], as: type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(member(key), codingPath + [key], as: type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(member(key), codingPath + [key], as: type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try ValueDecoder(member(key), path: codingPath + [key]).unwrap(type)
    }

    /// Absent and null both decode as nil, as with `JSONDecoder`; this is the common case for
    /// optional Kubernetes fields, so it skips the generic contains/decodeNil/decode sequence.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = object[key.stringValue], v != .null else { return nil }
        return try ValueDecoder(v, path: codingPath + [key]).unwrap(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(member(key), path: codingPath + [key]).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(member(key), path: codingPath + [key]).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { ValueDecoder(.object(object), path: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { ValueDecoder(object[key.stringValue] ?? .null, path: codingPath + [key]) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(items: [JSONValue], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private mutating func next() throws -> (JSONValue, [any CodingKey]) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath + [Index(currentIndex)], debugDescription: "unkeyed container is at its end"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], codingPath + [Index(currentIndex)])
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { let (v, p) = try next(); return try scalar(v, p, as: type) }
    mutating func decode(_ type: String.Type) throws -> String { let (v, p) = try next(); return try scalar(v, p, as: type) }
    mutating func decode(_ type: Double.Type) throws -> Double { let (v, p) = try next(); return try scalar(v, p, as: type) }
    mutating func decode(_ type: Float.Type) throws -> Float { let (v, p) = try next(); return try scalar(v, p, as: type) }
    mutating func decode(_ type: Int.Type) throws -> Int { let (v, p) = try next(); return try integer(v, p, as: type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let (v, p) = try next(); return try integer(v, p, as: type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let (v, p) = try next(); return try integer(v, p, as: type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let (v, p) = try next(); return try integer(v, p, as: type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let (v, p) = try next(); return try integer(v, p, as: type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let (v, p) = try next(); return try integer(v, p, as: type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let (v, p) = try next(); return try integer(v, p, as: type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let (v, p) = try next(); return try integer(v, p, as: type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let (v, p) = try next(); return try integer(v, p, as: type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let (v, p) = try next(); return try integer(v, p, as: type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, p) = try next()
        return try ValueDecoder(v, path: p).unwrap(type)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, p) = try next()
        return try ValueDecoder(v, path: p).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (v, p) = try next()
        return try ValueDecoder(v, path: p).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (v, p) = try next()
        return ValueDecoder(v, path: p)
    }
}

private struct SingleValue: SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try scalar(value, codingPath, as: type) }
    func decode(_ type: String.Type) throws -> String { try scalar(value, codingPath, as: type) }
    func decode(_ type: Double.Type) throws -> Double { try scalar(value, codingPath, as: type) }
    func decode(_ type: Float.Type) throws -> Float { try scalar(value, codingPath, as: type) }
    func decode(_ type: Int.Type) throws -> Int { try integer(value, codingPath, as: type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(value, codingPath, as: type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(value, codingPath, as: type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(value, codingPath, as: type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(value, codingPath, as: type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(value, codingPath, as: type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(value, codingPath, as: type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(value, codingPath, as: type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(value, codingPath, as: type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(value, codingPath, as: type) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try ValueDecoder(value, path: codingPath).unwrap(type) }
}
