import Logging
import NIOConcurrencyHelpers

/// Log lines, for tests that check what streamd logs: `level message key=value ...`.
final class LogCapture: LogHandler, @unchecked Sendable {
    private let captured = NIOLockedValueBox<[String]>([])
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var lines: [String] { captured.withLockedValue { $0 } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        captured.withLockedValue { $0.append("\(event.level) \(event.message) \(fields)") }
    }
}
