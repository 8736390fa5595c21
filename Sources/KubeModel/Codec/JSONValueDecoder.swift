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
        try decodeValue(value, T.self, codingPath)
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

/// Decodes one value: directly if it has one of the common types, else through a nested
/// decoder. The containers call this rather than `ValueDecoder.unwrap` so that the coding
/// path, an allocation per level, is built only when a nested decoder or an error needs it.
@inline(__always)
private func decodeValue<T: Decodable>(_ value: JSONValue, _ type: T.Type, _ path: @autoclosure () -> [any CodingKey]) throws -> T {
    if let direct = try decodeDirectly(value, T.self, path()) { return direct }
    return try T(from: ValueDecoder(value, path: path()))
}

/// The types most fields of Kubernetes objects have, decoded straight from the value: no
/// nested decoder, no container, and the coding path (an allocation per level) is built only
/// for an error. nil when `T` is not one of them.
@inline(__always)
private func decodeDirectly<T>(_ value: JSONValue, _ type: T.Type, _ path: @autoclosure () -> [any CodingKey]) throws -> T? {
    if T.self == JSONValue.self { return value as? T }
    if T.self == String.self {
        guard case .string(let s) = value else { throw mismatch(type, value, path()) }
        return s as? T
    }
    if T.self == Int32.self { return try integer(value, path(), as: Int32.self) as? T }
    if T.self == Int64.self { return try integer(value, path(), as: Int64.self) as? T }
    if T.self == Int.self { return try integer(value, path(), as: Int.self) as? T }
    if T.self == Bool.self {
        guard case .bool(let b) = value else { throw mismatch(type, value, path()) }
        return b as? T
    }
    if T.self == Double.self { return try scalar(value, path(), as: Double.self) as? T }
    if T.self == [String: String].self {
        guard case .object(let object) = value else { throw mismatch(type, value, path()) }
        var map = [String: String](minimumCapacity: object.count)
        for (k, v) in object {
            guard case .string(let s) = v else {
                throw mismatch(String.self, v, path() + [DictionaryKey(k)])
            }
            map[k] = s
        }
        return map as? T
    }
    if T.self == [String].self {
        guard case .array(let items) = value else { throw mismatch(type, value, path()) }
        var strings: [String] = []
        strings.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { throw mismatch(String.self, item, path() + [Index(i)]) }
            strings.append(s)
        }
        return strings as? T
    }
    return nil
}

private struct DictionaryKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { return nil }
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
        try decodeValue(member(key), T.self, codingPath + [key])
    }

    /// Absent and null both decode as nil, as with `JSONDecoder`; this is the common case for
    /// optional Kubernetes fields, so it skips the generic contains/decodeNil/decode sequence.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let v = object[key.stringValue] else { return nil }
        if case .null = v { return nil }
        return try decodeValue(v, T.self, codingPath + [key])
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

    /// The next item and its index; the index becomes a coding path only for an error.
    private mutating func next() throws -> (JSONValue, Int) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(JSONValue.self, .init(codingPath: codingPath + [Index(currentIndex)], debugDescription: "unkeyed container is at its end"))
        }
        defer { currentIndex += 1 }
        return (items[currentIndex], currentIndex)
    }

    private func path(_ i: Int) -> [any CodingKey] { codingPath + [Index(i)] }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .null = items[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { let (v, i) = try next(); return try scalar(v, path(i), as: type) }
    mutating func decode(_ type: String.Type) throws -> String { let (v, i) = try next(); return try scalar(v, path(i), as: type) }
    mutating func decode(_ type: Double.Type) throws -> Double { let (v, i) = try next(); return try scalar(v, path(i), as: type) }
    mutating func decode(_ type: Float.Type) throws -> Float { let (v, i) = try next(); return try scalar(v, path(i), as: type) }
    mutating func decode(_ type: Int.Type) throws -> Int { let (v, i) = try next(); return try integer(v, path(i), as: type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { let (v, i) = try next(); return try integer(v, path(i), as: type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { let (v, i) = try next(); return try integer(v, path(i), as: type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { let (v, i) = try next(); return try integer(v, path(i), as: type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { let (v, i) = try next(); return try integer(v, path(i), as: type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { let (v, i) = try next(); return try integer(v, path(i), as: type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { let (v, i) = try next(); return try integer(v, path(i), as: type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { let (v, i) = try next(); return try integer(v, path(i), as: type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { let (v, i) = try next(); return try integer(v, path(i), as: type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { let (v, i) = try next(); return try integer(v, path(i), as: type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (v, i) = try next()
        return try decodeValue(v, T.self, path(i))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (v, i) = try next()
        return try ValueDecoder(v, path: path(i)).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (v, i) = try next()
        return try ValueDecoder(v, path: path(i)).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (v, i) = try next()
        return ValueDecoder(v, path: path(i))
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
