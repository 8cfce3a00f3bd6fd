import FirewallState
import FoundationEssentials
import HostInspection
import PortModel

#if canImport(Glibc)
    import Glibc
#endif

/// Everything a command touches outside its arguments: where it writes and reads, its
/// environment, the clock, this program's own executable and the kernel backend. Commands run on
/// one (`ContextualCommand`), so a test runs them in-process with its own streams and fakes, and
/// no command reads the process's globals for test purposes.
public struct CommandContext: Sendable {
    /// Results: standard output.
    public var output: TextStream
    /// Diagnostics, warnings and errors: standard error.
    public var errors: TextStream
    public var input: InputStream
    public var environment: [String: String]
    public var now: @Sendable () -> Date
    /// The command line as given, recorded with each generation in the history.
    public var arguments: [String]
    /// This program's executable: what it starts for the rollback timer.
    public var selfExecutable: String
    /// The kernel: libnftables for the live program.
    public var backend: @Sendable () -> any NftablesBackend
    /// The prefix of error and warning lines: `portctl`, `streamd`.
    public var programName: String

    public init(
        output: TextStream, errors: TextStream, input: InputStream, environment: [String: String],
        now: @escaping @Sendable () -> Date = Date.init,
        arguments: [String], selfExecutable: String, backend: @escaping @Sendable () -> any NftablesBackend, programName: String
    ) {
        self.output = output
        self.errors = errors
        self.input = input
        self.environment = environment
        self.now = now
        self.arguments = arguments
        self.selfExecutable = selfExecutable
        self.backend = backend
        self.programName = programName
    }

    /// The running program's: its standard streams, environment, command line and executable.
    public static func live(programName: String, backend: @escaping @Sendable () -> any NftablesBackend) -> CommandContext {
        CommandContext(
            output: .standardOutput, errors: .standardError, input: .standardInput, environment: processEnvironment(),
            arguments: CommandLine.arguments, selfExecutable: Detached.selfExecutable, backend: backend, programName: programName)
    }

    /// The environment, read from `environ` (ProcessInfo's costs a command 0.1-0.3 ms at start-up).
    /// As in ProcessInfo, an entry without "=" is skipped, and the first of two equal names wins.
    public static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.utf8.firstIndex(of: UInt8(ascii: "=")) {
                let name = String(text[..<equals])
                if result[name] == nil { result[name] = String(text[text.utf8.index(after: equals)...]) }
            }
            entry += 1
        }
        return result
    }

    // MARK: - Writing

    /// Writes a result to standard output, as it is.
    public func out(_ text: String) { output.write(text) }

    /// `portctl: error: LINE` on standard error.
    public func error(_ line: String) { errors.write("\(programName): error: \(line)\n") }

    /// `portctl: warning: LINE` on standard error.
    public func warning(_ line: String) { errors.write("\(programName): warning: \(line)\n") }

    /// `portctl: notice: LINE` on standard error.
    public func notice(_ line: String) { errors.write("\(programName): notice: \(line)\n") }

    /// A diagnostic that carries its own `file:line:col: severity:` prefix.
    public func diagnostic(_ diagnostic: Diagnostic) { errors.write("\(diagnostic)\n") }

    /// A progress line that rewrites itself on a terminal; nothing elsewhere.
    public func progress(_ line: String) {
        if errors.isTerminal { errors.write("\r\u{1B}[K\(line)") }
    }
}

/// Where text goes: a file descriptor, or (in tests) a buffer.
public final class TextStream: @unchecked Sendable {
    private let sink: @Sendable (String) -> Void
    /// Whether a person is reading it (a terminal): for prompts and progress lines.
    public let isTerminal: Bool

    public init(isTerminal: Bool = false, sink: @escaping @Sendable (String) -> Void) {
        self.isTerminal = isTerminal
        self.sink = sink
    }

    public func write(_ text: String) { sink(text) }

    public static let standardOutput = TextStream(isTerminal: isatty(1) == 1) { DescriptorWriter.write($0, to: 1) }
    public static let standardError = TextStream(isTerminal: isatty(2) == 1) { DescriptorWriter.write($0, to: 2) }

    /// A stream that keeps what is written, for a test to read back.
    public static func buffer() -> (TextStream, TextBuffer) {
        let buffer = TextBuffer()
        return (TextStream { buffer.append($0) }, buffer)
    }
}

/// What a buffered `TextStream` received.
public final class TextBuffer: @unchecked Sendable {
    private let lock = Lock()
    private var text = ""

    public init() {}

    func append(_ more: String) { lock.withLock { text += more } }

    public var contents: String { lock.withLock { text } }
}

/// Where answers come from: standard input, or (in tests) given lines.
public final class InputStream: @unchecked Sendable {
    public let isTerminal: Bool
    private let ready: @Sendable (Int32) -> Bool
    private let line: @Sendable () -> String?

    public init(isTerminal: Bool, ready: @escaping @Sendable (Int32) -> Bool, line: @escaping @Sendable () -> String?) {
        self.isTerminal = isTerminal
        self.ready = ready
        self.line = line
    }

    /// Whether a line can be read within `milliseconds`.
    public func isReady(within milliseconds: Int32) -> Bool { ready(milliseconds) }

    /// The next line, or nil at the end of the input.
    public func readLine() -> String? { line() }

    public static let standardInput = InputStream(
        isTerminal: isatty(0) == 1,
        ready: { milliseconds in
            var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            return poll(&descriptor, 1, milliseconds) > 0
        },
        line: { Swift.readLine() })

    /// No input at all, as from /dev/null.
    public static let empty = InputStream(isTerminal: false, ready: { _ in true }, line: { nil })
}
