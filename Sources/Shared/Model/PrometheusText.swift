/// The Prometheus text exposition format (0.0.4), as `portctl status --format prometheus` and
/// streamd's /metrics write it: each family with its HELP and TYPE lines, then its samples.
public struct PrometheusText: Sendable {
    public enum Kind: String, Sendable {
        case counter
        case gauge
    }

    public private(set) var text = ""

    public init() {}

    /// One metric family; a family without samples still gets its HELP and TYPE lines.
    public mutating func family(_ name: String, _ kind: Kind, _ help: String, _ samples: [(labels: [(String, String)], value: String)]) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(kind.rawValue)\n"
        for sample in samples {
            let labels =
                sample.labels.isEmpty ? "" : "{" + sample.labels.map { "\($0.0)=\"\(Self.escaped($0.1))\"" }.joined(separator: ",") + "}"
            text += "\(name)\(labels) \(sample.value)\n"
        }
    }

    /// A label value as the format writes it: backslash, double quote and line feed escaped.
    public static func escaped(_ value: String) -> String {
        var out = ""
        for character in value {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n", "\r\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }
}
