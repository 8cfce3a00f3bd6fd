import CommandSupport
import FirewallState
import FoundationEssentials
import Glibc
import Logging
import NIOConcurrencyHelpers
import PortModel

/// Where log lines go: standard error, or a file that SIGHUP reopens (for logrotate).
final class LogSink: Sendable {
    let path: String?
    let json: Bool
    private let descriptor = NIOLockedValueBox<Int32?>(nil)

    init(path: String?, json: Bool) {
        self.path = path
        self.json = json
        reopen()
    }

    func reopen() {
        guard let path else { return }
        let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        descriptor.withLockedValue { old in
            if let old { close(old) }
            old = opened >= 0 ? opened : nil
        }
    }

    func write(line: String) {
        descriptor.withLockedValue { file in
            DescriptorWriter.write(line + "\n", to: file ?? 2)
        }
    }
}

/// One line per event: `time level message key=value ...`, or a JSON object with --json.
struct LineLogHandler: LogHandler {
    let label: String
    let sink: LogSink
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let time = StateStore.timestamp()
        if sink.json {
            var pairs: [(String, JSONValue)] = [
                ("time", .string(time)), ("level", .string(level.rawValue)), ("message", .string(message.description)),
            ]
            for key in all.keys.sorted() { pairs.append((key, .string("\(all[key]!)"))) }
            sink.write(line: JSONValue.object(pairs).compact)
        } else {
            let fields = all.keys.sorted().map { "\($0)=\(all[$0]!)" }.joined(separator: " ")
            sink.write(line: "\(time) \(level.rawValue) \(message)" + (fields.isEmpty ? "" : " " + fields))
        }
    }
}
