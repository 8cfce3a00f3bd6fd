/// A problem found in a profile, with where it is and how bad it is.
///
/// Rendered as `file:line:column: error: message`, the form compilers use, so editors can jump to it.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable, Comparable {
        case warning
        case error

        public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .warning && rhs == .error }
    }

    public let file: String
    public let line: Int
    public let column: Int
    public var severity: Severity
    public let message: String

    public init(file: String, line: Int, column: Int, severity: Severity, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(severity.rawValue): \(message)" }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }

    /// With `strict`, every warning counts as an error, as `--strict` promises.
    public func escalated(strict: Bool) -> [Diagnostic] {
        guard strict else { return self }
        return map {
            var copy = $0
            copy.severity = .error
            return copy
        }
    }
}
