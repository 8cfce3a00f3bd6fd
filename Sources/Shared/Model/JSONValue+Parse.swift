import Foundation

extension JSONValue {
    public struct ParseError: Error, CustomStringConvertible {
        package init(description: String) { self.description = description }

        public let description: String
    }

    /// Parses JSON text. Object keys come back in sorted order (Foundation does not keep the original).
    public static func parse(_ text: String) throws(ParseError) -> JSONValue {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        } catch {
            throw ParseError(description: "not valid JSON: \(error.localizedDescription)")
        }
        return convert(object)
    }

    static func convert(_ object: Any) -> JSONValue {
        switch object {
        case let dictionary as [String: Any]:
            return .object(dictionary.keys.sorted().map { ($0, convert(dictionary[$0]!)) })
        case let array as [Any]:
            return .array(array.map(convert))
        case let string as String:
            return .string(string)
        case let number as NSNumber:
            // Foundation hands booleans back as NSNumbers of C type 'c' (char).
            if String(cString: number.objCType) == "c" { return .bool(number.boolValue) }
            return .int(number.intValue)
        case is NSNull:
            return .null
        default:
            return .string("\(object)")
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
