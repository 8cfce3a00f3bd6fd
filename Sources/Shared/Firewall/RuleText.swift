import PortModel

extension BlockingAnalyzer {
    /// A rule's statements in nft's own syntax, as far as portctl knows it; compact JSON for the rest.
    package enum RuleText {
        package static func render(_ statements: [JSONValue]) -> String {
            statements.filter { $0.soleKey != "counter" }.map(statement).joined(separator: " ")
        }

        static func statement(_ value: JSONValue) -> String {
            guard let key = value.soleKey, let body = value[key] else { return value.compact }
            switch key {
            case "match":
                guard let left = body["left"], let right = body["right"] else { return value.compact }
                let op = body["op"]?.string ?? "=="
                let shownOp = op == "==" || op == "in" ? "" : "\(op) "
                return "\(expression(left)) \(shownOp)\(expression(right))"
            case "accept", "drop", "return", "continue": return key
            case "reject":
                guard let type = body["type"]?.string else { return "reject" }
                return body["expr"]?.string.map { "reject with \(type) \($0)" } ?? "reject with \(type)"
            case "jump", "goto": return body["target"]?.string.map { "\(key) \($0)" } ?? value.compact
            case "xt":
                let kind = body["type"]?.string == "target" ? "-j" : "-m"
                return body["name"]?.string.map { "xt \(kind) \($0)" } ?? value.compact
            case "log": return "log"
            case "vmap":
                guard let key = body["key"], let data = body["data"] else { return value.compact }
                return "\(expression(key)) vmap \(expression(data))"
            default: return value.compact
            }
        }

        static func expression(_ value: JSONValue) -> String {
            switch value {
            case .string(let text): return text.allSatisfy { $0.isLetter || $0.isNumber || "@_-.:/".contains($0) } ? text : "\"\(text)\""
            case .int(let number): return String(number)
            case .array(let items): return items.map(expression).joined(separator: ",")
            case .object:
                guard let key = value.soleKey, let body = value[key] else { return value.compact }
                switch key {
                case "payload":
                    guard let proto = body["protocol"]?.string, let field = body["field"]?.string else { return value.compact }
                    return "\(proto) \(field)"
                case "meta":
                    guard let name = body["key"]?.string else { return value.compact }
                    return ["iif", "iifname", "oif", "oifname"].contains(name) ? name : "meta \(name)"
                case "ct":
                    guard let name = body["key"]?.string else { return value.compact }
                    return body["dir"]?.string.map { "ct \($0) \(name)" } ?? "ct \(name)"
                case "fib":
                    guard let result = body["result"]?.string else { return value.compact }
                    let flags = body["flags"]?.array?.compactMap(\.string) ?? body["flags"]?.string.map { [$0] } ?? []
                    return "fib \(flags.joined(separator: " . ")) \(result)"
                case "set":
                    let items = body.array ?? [body]
                    return "{ \(items.map(element).joined(separator: ", ")) }"
                case "range":
                    guard let bounds = body.array, bounds.count == 2 else { return value.compact }
                    return "\(expression(bounds[0]))-\(expression(bounds[1]))"
                case "prefix":
                    guard let address = body["addr"]?.string, let length = body["len"]?.int else { return value.compact }
                    return "\(address)/\(length)"
                case "concat":
                    return (body.array ?? []).map(expression).joined(separator: " . ")
                case "elem":
                    return body["val"].map(expression) ?? value.compact
                default: return value.compact
                }
            default: return value.compact
            }
        }

        /// A set element: a value, or `key : verdict` in a verdict map.
        static func element(_ value: JSONValue) -> String {
            if let pair = value.array, pair.count == 2, pair[1].soleKey != nil, pair[1].soleKey != "concat" {
                return "\(expression(pair[0])) : \(statement(pair[1]))"
            }
            return expression(value)
        }
    }
}
