import ArgumentParser
import Foundation
import Shared

/// `portctl probe`: proves from outside that every planned port is reachable and speaks its protocol.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Check from outside that every port a plan opens is reachable and answers in its protocol.",
        discussion: """
            Connects to every TCP port and speaks its protocol (RTSP OPTIONS, HTTP GET, the \
            RTSP-over-HTTP tunnel, the RTMP handshake, ICY, MMS over HTTP), and knocks on UDP ports \
            (streamd answers with a signed reply under --key). Large UDP ranges are sampled: first \
            port, last port and --sample random ports, reproducible with --seed; --full probes all.
            All checks run in parallel, so a plan takes about one --timeout in the worst case.

            With --media, each RTSP port also gets a real session over UDP (client ports, punch \
            packets, RTP from the server's media range) and over interleaved TCP, and each \
            RTSP-over-HTTP port one through the tunnel: DESCRIBE, SETUP, PLAY, then RTP is counted \
            for --media-duration, its sequence and timing checked, and the session torn down. \
            --clients N runs N sessions per check at once: a load test of the media path.

            VERDICTS: ok; open-wrong-protocol (says what answered instead); closed (refused, or ICMP \
            port unreachable); filtered (no answer: a firewall drop, or no responder on UDP); error; \
            with --media, media-blocked (RTSP works but no RTP arrives: the media range is closed) \
            and media-degraded (clients failed, or more than 5% of packets were lost).

            EXIT STATUS: 0 every port ok; 1 any port failed; 64 usage error; 65 a profile is invalid.

            EXAMPLES:
              portctl probe stream.example.org dss --key knock.key
              portctl probe 192.0.2.1 dss --port80 --format junit > probe.xml
              portctl probe 192.0.2.1 --ports 554/tcp,6970-6999/udp --timeout 1s
              portctl probe 192.0.2.1 dss --path /live/test
              portctl probe stream.example.org dss --media
              portctl probe 192.0.2.1 --ports 554/tcp,6970-6999/udp --media --clients 200 --media-transport udp
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json, junit, tap }

    @Argument(help: ArgumentHelp("The host to probe: a name or an address.", valueName: "host")) var host: String
    @Argument(help: ArgumentHelp("Profiles whose ports to probe.", valueName: "profile")) var profiles: [String] = []
    @OptionGroup var flags: PlanFlags
    @Option(help: ArgumentHelp("Probe these ports too, e.g. 554/tcp,6970-6999/udp (repeatable).", valueName: "ports")) var ports: [String] = []
    @Option(help: ArgumentHelp("How long to wait for each answer: 2s, 500ms or 1.5 (seconds).", valueName: "duration")) var timeout = "2s"
    @Option(help: ArgumentHelp("Checks at once.", valueName: "n")) var concurrency = 128
    @Option(help: ArgumentHelp("Random ports probed inside each large UDP range, besides its first and last.", valueName: "n")) var sample = 8
    @Flag(help: "Probe every port of every range.") var full = false
    @Option(help: ArgumentHelp("Seed for the sample, to repeat a probe exactly.", valueName: "n")) var seed: UInt64 = 1
    @Option(help: ArgumentHelp("The knock key file streamd uses; without it a UDP reply is accepted unverified.", valueName: "file")) var key: String?
    @Option(help: ArgumentHelp("Report format: table, json, junit, tap.", valueName: "format")) var format: Format = .table
    @Option(help: ArgumentHelp("Send from this local address.", valueName: "address")) var source: String?
    @Option(help: ArgumentHelp("Also DESCRIBE this stream on RTSP ports, e.g. /live/test; it must answer with an SDP.", valueName: "path")) var path: String?
    @Flag(help: "Also play the stream (--path, default /test) on every RTSP port and tunnel, and check that RTP arrives.") var media = false
    @Option(help: ArgumentHelp("Sessions per media check, all at once (with --media).", valueName: "n")) var clients = 1
    @Option(name: .customLong("media-duration"), help: ArgumentHelp("How long each media session receives: 3s, 500ms.", valueName: "duration"))
    var mediaDuration = "3s"
    @Option(name: .customLong("media-transport"), help: ArgumentHelp("Media transports to check: udp, tcp, http (comma-separated; default all).", valueName: "list"))
    var mediaTransports: [String] = []

    func run() throws {
        try Console.guarded {
            let seconds = try Self.duration(timeout)
            guard (1...4096).contains(concurrency) else { throw CommandFailure.flag("--concurrency", "\(concurrency) is out of range (1-4096)") }
            guard (0...10_000).contains(sample) else { throw CommandFailure.flag("--sample", "\(sample) is out of range (0-10000)") }
            guard (1...2000).contains(clients) else { throw CommandFailure.flag("--clients", "\(clients) is out of range (1-2000)") }
            let mediaSeconds = try Self.duration(mediaDuration, flag: "--media-duration")
            var transports = Set<MediaTransport>()
            for name in mediaTransports.flatMap({ $0.split(separator: ",").map(String.init) }) {
                guard let transport = MediaTransport(rawValue: name) else {
                    throw CommandFailure.flag("--media-transport", "'\(name)' is not a media transport (udp, tcp, http)")
                }
                transports.insert(transport)
            }
            if transports.isEmpty { transports = Set(MediaTransport.allCases) }
            var targets: [ProbeTarget] = []
            if !profiles.isEmpty {
                let plan = Planner.plan(try flags.request(profiles: profiles))
                targets = Prober.targets(plan, sample: sample, full: full, seed: seed)
            }
            var specs: [PortSpec] = []
            for text in ports.flatMap({ $0.split(separator: ",").map(String.init) }) {
                do throws(ModelError) { specs.append(try PortSpec(parsing: text)) } catch { throw CommandFailure.flag("--ports", error.description) }
            }
            var seen = Set(targets.map { "\($0.port)/\($0.transport.rawValue)" })
            targets += Prober.targets(ports: specs).filter { seen.insert("\($0.port)/\($0.transport.rawValue)").inserted }
            guard !targets.isEmpty else { throw CommandFailure(.usage, "name profiles or --ports to probe, e.g. portctl probe \(host) dss") }
            var prober = Prober(host: host)
            prober.timeout = seconds
            prober.concurrency = concurrency
            prober.source = source
            prober.tls = TLSProbe.check
            prober.rtspPath = path
            if let key {
                // The same loader as streamd's --key: one file gives both the same key.
                let loaded: KnockKey.Loaded
                do { loaded = try KnockKey.load(path: key) } catch { throw CommandFailure.flag("--key", "\(error)") }
                loaded.warnings.forEach { Console.warning("--key: \($0)") }
                prober.key = loaded.key
            }
            let checks = media ? MediaProbe.checks(for: targets, transports: transports) : []
            if media, checks.isEmpty {
                throw CommandFailure.flag("--media", "nothing to play: the plan has no RTSP port (or none for --media-transport); name an RTSP profile or --ports 554/tcp")
            }
            let interactive = isatty(2) == 1
            var results = prober.run(targets) { done, total in
                if interactive { FileHandle.standardError.write(Data("\rprobing \(host): \(done)/\(total)".utf8)) }
            }
            if media {
                var player = MediaProbe(host: host)
                player.timeout = seconds
                player.duration = mediaSeconds
                player.clients = clients
                player.source = source
                player.path = path ?? "/test"
                results += player.run(checks) { line in
                    if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8)) }
                }
            }
            if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
            switch format {
            case .table: Console.out(ProbeReport.table(results, host: host))
            case .json: Console.out(ProbeReport.json(results, host: host).pretty)
            case .junit: Console.out(ProbeReport.junit(results, host: host))
            case .tap: Console.out(ProbeReport.tap(results, host: host))
            }
            if !ProbeReport.passed(results) { throw ExitCode(ExitStatus.checkFailed.rawValue) }
        }
    }

    /// `2s`, `500ms`, `1.5` (seconds).
    static func duration(_ text: String, flag: String = "--timeout") throws(CommandFailure) -> Double {
        var number = text
        var scale = 1.0
        if text.hasSuffix("ms") { number = String(text.dropLast(2)); scale = 0.001 } else if text.hasSuffix("s") { number = String(text.dropLast()) }
        guard let value = Double(number), value > 0, value * scale <= 60 else {
            throw CommandFailure.flag(flag, "'\(text)' is not a duration between 1ms and 60s (e.g. 2s, 500ms)")
        }
        return value * scale
    }
}
