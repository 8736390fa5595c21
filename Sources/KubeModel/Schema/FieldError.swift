/// One validation failure, shaped like Kubernetes' `field.Error` so messages read the same
/// offline (`llmops validate`) as from the API server's 422 `Invalid` responses.
public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable {
        case required = "FieldValueRequired"
        case invalid = "FieldValueInvalid"
        case notSupported = "FieldValueNotSupported"
        case typeInvalid = "FieldValueTypeInvalid"
        case tooLong = "FieldValueTooLong"
        case tooMany = "FieldValueTooMany"
        case duplicate = "FieldValueDuplicate"
        case unknownField = "FieldValueUnknown"
        case forbidden = "FieldValueForbidden"
    }

    public var kind: Kind
    /// Field path such as `spec.slo.ttftP95Ms`; "" for the document itself.
    public var path: String
    public var value: JSONValue?
    public var detail: String

    public init(_ kind: Kind, _ path: String, value: JSONValue? = nil, _ detail: String) {
        self.kind = kind
        self.path = path
        self.value = value
        self.detail = detail
    }

    /// The phrase Kubernetes puts between path and detail.
    public var summary: String {
        switch kind {
        case .required: return "Required value"
        case .invalid, .typeInvalid: return "Invalid value"
        case .notSupported: return "Unsupported value"
        case .tooLong: return "Too long"
        case .tooMany: return "Too many"
        case .duplicate: return "Duplicate value"
        case .unknownField: return "Unknown field"
        case .forbidden: return "Forbidden"
        }
    }

    /// The error without its field path, e.g. `Invalid value: -5: should be greater than or equal to 1`.
    public var message: String {
        var s = summary
        if let value, kind != .required, kind != .unknownField, kind != .tooLong { s += ": " + value.briefDescription }
        if !detail.isEmpty { s += ": " + detail }
        return s
    }

    public var description: String { path.isEmpty ? message : path + ": " + message }
}
