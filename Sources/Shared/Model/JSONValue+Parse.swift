import FoundationEssentials

extension JSONValue {
    public struct ParseError: Error, CustomStringConvertible {
        package init(description: String) { self.description = description }

        public let description: String
    }

    /// Parses JSON text. Object keys come back in sorted order (the decoder does not keep the original).
    public static func parse(_ text: String) throws(ParseError) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        } catch {
            throw ParseError(description: "not valid JSON: \(error)")
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var int: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The single key of a one-key object, as libnftables uses them (`{"accept": null}`).
    public var soleKey: String? {
        guard case .object(let pairs) = self, pairs.count == 1 else { return nil }
        return pairs[0].0
    }
}

/// Any JSON value, through FoundationEssentials' JSONDecoder: numbers must be integers (no JSON
/// portctl reads carries another kind).
extension JSONValue: Decodable {
    struct Key: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        if let object = try? decoder.container(keyedBy: Key.self) {
            self = .object(try object.allKeys.map(\.stringValue).sorted().map { ($0, try object.decode(JSONValue.self, forKey: Key(stringValue: $0))) })
        } else if var array = try? decoder.unkeyedContainer() {
            var items: [JSONValue] = []
            if let count = array.count { items.reserveCapacity(count) }
            while !array.isAtEnd { items.append(try array.decode(JSONValue.self)) }
            self = .array(items)
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() {
                self = .null
            } else if let bool = try? value.decode(Bool.self) {
                self = .bool(bool)
            } else if let int = try? value.decode(Int.self) {
                self = .int(int)
            } else {
                self = .string(try value.decode(String.self))
            }
        }
    }
}
