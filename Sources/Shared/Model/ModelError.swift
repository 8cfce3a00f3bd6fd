/// Why a value could not be built. Each case says what was wrong and what would be valid,
/// so the caller only adds where the value came from (a file:line or a flag).
public enum ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    case portOutOfRange(String)
    case notAPort(String)
    case reversedRange(String)
    case unknownTransport(String)
    case missingTransport(String)
    case notAnAddress(String)
    case badPrefixLength(String, max: Int)
    case hostBitsSet(String, network: String)
    case badName(String, what: String, rule: String)

    public var description: String {
        switch self {
        case .portOutOfRange(let text):
            if text == "65635" {
                return "port 65635 is out of range (1-65535); the seed document's \"10000-65635\" is a typo for 65535"
            }
            return "port \(Shown.value(text)) is out of range (1-65535)"
        case .notAPort(let text):
            return "'\(Shown.value(text))' is not a port number (expected 1-65535, or a range such as 6970-6999)"
        case .reversedRange(let text):
            let parts = text.split(separator: "-")
            let hint = parts.count == 2 ? "; write it low-high, as \(parts[1])-\(parts[0])" : ""
            return "port range '\(Shown.value(text))' is reversed\(hint)"
        case .unknownTransport(let text):
            return "unknown transport '\(Shown.value(text))' (expected tcp or udp)"
        case .missingTransport(let text):
            return "'\(Shown.value(text))' has no transport (write it as \(Shown.value(text))/tcp or \(Shown.value(text))/udp)"
        case .notAnAddress(let text):
            return "'\(Shown.value(text))' is not an IPv4 or IPv6 address or CIDR (e.g. 192.0.2.0/24, 198.51.100.7, 2001:db8::/32)"
        case .badPrefixLength(let text, let max):
            return "'\(Shown.value(text))' has a bad prefix length (expected 0-\(max))"
        case .hostBitsSet(let text, let network):
            return "'\(Shown.value(text))' has host bits set; did you mean \(network)?"
        case .badName(let text, let what, let rule):
            return "'\(Shown.value(text))' is not a valid \(what) (\(rule))"
        }
    }
}
