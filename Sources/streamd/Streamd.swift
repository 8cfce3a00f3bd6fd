import ArgumentParser
import CommandSupport
import FoundationEssentials
import Glibc
import HostInspection
import KnockAuth
import Logging
import PortModel
import PortPlanning
import StreamWire

/// streamd: a test server that listens on every port of a plan and answers in each port's protocol.
@main
struct Streamd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "streamd",
        abstract: "Listen on every port a plan opens, and answer each in its own protocol.",
        discussion: """
            Run it where the streaming server will run, with the same profiles and options as \
            'portctl apply', then probe from outside: every port answers in its protocol (RTSP, HTTP, \
            the RTSP-over-HTTP tunnel, RTMP, ICY, MMS, the admin page), and every UDP port answers \
            the signed knock. Players get a test stream (a 1 kHz tone) over RTSP (UDP, TCP, the \
            HTTP tunnel), RTMP, ICY and MMSH: rtsp://HOST/test, rtmp://HOST/live/test, \
            http://HOST:8000/test.mp3, mmsh://HOST:1755/test. A port that is already in use is reported with its owner and skipped.

            EXAMPLES:
              streamd dss
              streamd dss --port80 --admin-from 192.0.2.0/24 --key /etc/portctl/knock.key
              streamd rtmp mediamtx --json

            EXIT STATUS: 0 after SIGTERM or SIGINT; 1 when nothing could be bound (or, with --require-all, \
            when anything could not); 64 usage error; 65 a profile is invalid. See streamd(8).
            """,
        version: ToolVersion.current)

    @Argument(help: ArgumentHelp("Profiles to serve, e.g. dss rtmp.", valueName: "profile"))
    var profiles: [String] = []

    @Flag(name: .customLong("cleanup-helper"), help: .hidden) var cleanupHelper = false

    /// The plan flags of `portctl apply`, the same type: what streamd serves is the plan apply opens.
    @OptionGroup var flags: PlanFlags

    @Option(help: ArgumentHelp("Address to listen on (default :: , all IPv6 and IPv4 addresses).", valueName: "address")) var bind = "::"
    @Option(help: ArgumentHelp("File holding the knock key; without it a random key is made and printed.", valueName: "file")) var key:
        String?
    @Option(help: ArgumentHelp("After binding, drop root and serve as this user.", valueName: "name")) var user = "nobody"
    @Option(
        name: .customLong("tls-cert"),
        help: ArgumentHelp(
            "PEM certificate chain for the RTMPS and HTTPS ports; without it streamd makes a self-signed one.", valueName: "file"))
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key that goes with --tls-cert.", valueName: "file")) var tlsKey:
        String?
    @Option(name: .customLong("max-connections"), help: ArgumentHelp("Refuse TCP connections beyond this many.", valueName: "n"))
    var maxConnections = 20_000
    @Option(
        name: .customLong("sessions-max"),
        help: ArgumentHelp(
            "Serve at most this many media sessions at once (RTSP, RTMP play, ICY and MMSH listeners); more are refused.", valueName: "n"))
    var sessionsMax = 1000
    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("Close a connection silent for this many seconds.", valueName: "seconds"))
    var idleTimeout = 60
    @Option(
        name: .customLong("log-file"),
        help: ArgumentHelp("Write logs here instead of standard error; SIGHUP reopens it.", valueName: "file")) var logFile: String?
    @Flag(name: .customLong("require-all"), help: "Exit non-zero when any listener cannot be bound.") var requireAll = false
    @Flag(help: "Log one JSON object per line.") var json = false

    func validate() throws {
        if profiles.isEmpty, flags.configs.isEmpty, !cleanupHelper {
            throw ValidationError(
                "name at least one profile, e.g. streamd dss (portctl profiles list shows them), or a server configuration with --config FILE"
            )
        }
        guard (1...100_000).contains(sessionsMax) else {
            throw ValidationError("--sessions-max \(sessionsMax): give a number from 1 to 100000")
        }
    }

    func run() throws {
        if cleanupHelper {
            RangeRedirect.runCleanupHelper()
            return
        }
        let sink = LogSink(path: logFile, json: json)
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, sink: sink) }
        let logger = Logger(label: "streamd")

        var inputs = flags.inputs
        inputs.profiles = profiles
        let plan: Plan
        do {
            let (request, warnings) = try inputs.build(environment: ProcessInfo.processInfo.environment)
            for warning in warnings { sink.write(line: warning.description) }
            plan = Planner.plan(request)
        } catch {
            for diagnostic in error.diagnostics { sink.write(line: diagnostic.description) }
            for line in error.lines { sink.write(line: "streamd: error: \(line)") }
            throw ExitCode(error.status.rawValue)
        }

        let knockKey: KnockKey
        if let key {
            let loaded: KnockKey.Loaded
            do {
                loaded = try KnockKey.load(path: key)
            } catch {
                sink.write(line: "streamd: error: --key: \(error)")
                throw ExitCode(ExitStatus.usage.rawValue)
            }
            for warning in loaded.warnings {
                // On standard error whatever --log-file says, and in the log too.
                DescriptorWriter.write("streamd: warning: --key: \(warning)\n", to: 2)
                if logFile != nil { sink.write(line: "streamd: warning: --key: \(warning)") }
            }
            knockKey = loaded.key
        } else {
            let keyText = Knock.randomKeyText()
            logger.notice("no --key given: using a random knock key; give it to portctl probe with --key", metadata: ["key": "\(keyText)"])
            knockKey = KnockKey(fileText: keyText)!
        }

        let specs = ListenerSpec.from(plan, bind: bind)
        let server = StreamServer(
            key: knockKey,
            limits: ConnectionLimits(idleTimeout: Int64(idleTimeout), maxConnections: maxConnections), sessionsMax: sessionsMax,
            logger: logger)
        if specs.contains(where: { $0.service == .rtmps || $0.service == .https }) || tlsCert != nil {
            do {
                let (context, selfSigned) = try TLSSetup.context(certificate: tlsCert, key: tlsKey)
                server.tls = context
                if selfSigned {
                    logger.notice(
                        "RTMPS and HTTPS use a self-signed certificate streamd made; give a real one with --tls-cert and --tls-key")
                }
            } catch {
                sink.write(line: "streamd: error: \(error)")
                throw ExitCode(ExitStatus.usage.rawValue)
            }
        }
        let bound = server.start(specs) { port, transport in
            let spec = PortSpec(PortRange(single: try! PortNumber(port)), transport)
            return ConflictReport.check([(spec, [], [])], profiles: []).rows.first?.holders.first.map(\.description)
        }
        let failed = specs.count - bound
        if bound == 0 || (requireAll && failed > 0) {
            sink.write(
                line:
                    "streamd: error: \(bound == 0 ? "nothing could be bound" : "\(failed) listeners could not be bound and --require-all is on")"
            )
            server.shutdown(grace: 0)
            throw ExitCode(ExitStatus.checkFailed.rawValue)
        }
        do {
            let now = try Privileges.drop(to: user)
            if geteuid() == 0 {
                logger.warning("serving as root: every request is handled with full privileges (--user names someone else)")
            }
            server.serve()
            logger.info("serving", metadata: ["user": "\(now)", "listeners": "\(bound) of \(specs.count)"])
        } catch {
            sink.write(line: "streamd: error: \(error)")
            server.shutdown(grace: 0)
            throw ExitCode(ExitStatus.usage.rawValue)
        }
        SignalWaiter.wait(onHangup: { sink.reopen() })
        logger.info("stopping: draining connections")
        server.shutdown()
    }
}
