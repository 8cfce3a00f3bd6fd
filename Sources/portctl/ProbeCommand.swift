import ArgumentParser
import CommandSupport
import FirewallState
import FoundationEssentials
import HostInspection
import KnockAuth
import NftablesKernel
import PlanRendering
import PortModel
import PortPlanning
import PortProbe
import PortProfiles
import StreamWire

/// `portctl probe`: proves from outside that every planned port is reachable and speaks its protocol.
struct ProbeCommand: ContextualCommand {
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

            Knocks are paced to 500 a second (bursts of 1000), under streamd's per-source limit. A host \
            that rate-limits its ICMP unreachables gets its silent UDP ports knocked again, one at a \
            time, within --icmp-budget. Every TCP check has a deadline (4 timeouts and 2s).

            VERDICTS: ok; open-wrong-protocol (says what answered instead); closed (refused, or ICMP \
            port unreachable); filtered (no answer: a firewall drop, or no responder on UDP); \
            closed-or-filtered (UDP, silent on a host that rate-limits ICMP, not retried within \
            --icmp-budget); error; with --media, media-blocked (RTSP works but no RTP arrives: the \
            media range is closed), media-one-way (RTP arrives, but streamd received nothing from the \
            player) and media-degraded (clients failed, or more than 5% of packets were lost).

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

    @Argument(help: ArgumentHelp("The host to probe: a name or an address (optional with --targets).", valueName: "host"))
    var firstHost: String?
    @Argument(
        help: ArgumentHelp(
            "Profiles whose ports to probe; words that name no profile and look like hosts (a dot, a colon, localhost) are more hosts, probed in parallel.",
            valueName: "profile|host")) var profiles: [String] = []
    @Option(
        name: .customLong("targets"),
        help: ArgumentHelp(
            "Probe the hosts this file lists, in parallel: one a line, HOST [PROFILE...] [PLAN FLAGS...]; a line with only a host uses the command line's plan.",
            valueName: "file")) var targetsFile: String?
    @OptionGroup var flags: PlanFlags
    @Option(help: ArgumentHelp("Probe these ports too, e.g. 554/tcp,6970-6999/udp (repeatable).", valueName: "ports")) var ports: [String] =
        []
    // `.unconditional`: a value such as -1 is taken as the value (and refused with the valid
    // range), not read as a flag ("Missing value").
    @Option(
        parsing: .unconditional, help: ArgumentHelp("How long to wait for each answer: 2s, 500ms or 1.5 (seconds).", valueName: "duration"))
    var timeout = "2s"
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Checks at once: sockets in flight (TCP checks take up to half, a thread each).", valueName: "n"))
    var concurrency = 128
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Random ports probed inside each large UDP range, besides its first and last.", valueName: "n"))
    var sample = 8
    @Flag(help: "Probe every port of every range.") var full = false
    @Option(parsing: .unconditional, help: ArgumentHelp("Seed for the sample, to repeat a probe exactly.", valueName: "n")) var seed = "1"
    @Option(
        name: .customLong("icmp-budget"), parsing: .unconditional,
        help: ArgumentHelp(
            "At most this long retrying silent UDP ports of a host that rate-limits ICMP (default 30s; 0: none).", valueName: "duration"))
    var icmpBudget = "30s"
    @Option(help: ArgumentHelp("The knock key file streamd uses; without it a UDP reply is accepted unverified.", valueName: "file"))
    var key: String?
    @Option(help: ArgumentHelp("Report format: table, json, junit, tap.", valueName: "format")) var format: Format = .table
    @Option(
        name: .customLong("junit-file"),
        help: ArgumentHelp("Also write the JUnit report to this file (for CI, beside a --format json result).", valueName: "file"))
    var junitFile: String?
    @Option(help: ArgumentHelp("Send from this local address.", valueName: "address")) var source: String?
    @Option(help: ArgumentHelp("Also DESCRIBE this stream on RTSP ports, e.g. /live/test; it must answer with an SDP.", valueName: "path"))
    var path: String?
    @Flag(help: "Also play the stream (--path, default /test) on every RTSP port and tunnel, and check that RTP arrives.") var media = false
    @Option(parsing: .unconditional, help: ArgumentHelp("Sessions per media check, all at once (with --media).", valueName: "n"))
    var clients = 1
    @Option(
        name: .customLong("media-duration"), parsing: .unconditional,
        help: ArgumentHelp("How long each media session receives: 3s, 500ms.", valueName: "duration"))
    var mediaDuration = "3s"
    @Option(
        name: .customLong("media-transport"),
        help: ArgumentHelp("Media transports to check: udp, tcp, http (comma-separated; default all).", valueName: "list"))
    var mediaTransports: [String] = []

    func run(in context: CommandContext) throws {
        let seconds = try Self.duration(timeout)
        guard (1...4096).contains(concurrency) else {
            throw CommandFailure.flag("--concurrency", "\(concurrency) is out of range (1-4096)")
        }
        guard (0...10_000).contains(sample) else { throw CommandFailure.flag("--sample", "\(sample) is out of range (0-10000)") }
        guard seed.allSatisfy({ $0.isASCII && $0.isNumber }), let seed = UInt64(seed) else {
            throw CommandFailure.flag("--seed", "'\(Self.shown(seed))' is not a seed (a whole number, 0-18446744073709551615)")
        }
        guard (1...2000).contains(clients) else { throw CommandFailure.flag("--clients", "\(clients) is out of range (1-2000)") }
        let mediaSeconds = try Self.duration(mediaDuration, flag: "--media-duration")
        guard let retryBudget = Self.seconds(icmpBudget), retryBudget <= 600 else {
            throw CommandFailure.flag(
                "--icmp-budget", "'\(Self.shown(icmpBudget))' is not a duration between 0s and 600s (e.g. 30s; 0 for no retries)")
        }
        if let path, let bad = Self.unfitForPath(path) {
            throw CommandFailure.flag(
                "--path",
                "'\(Self.shown(bad))' has a control character or a space; write the path as in a URL, e.g. /live/test (a space as %20)")
        }
        var transports = Set<MediaTransport>()
        for name in try Self.items(mediaTransports, flag: "--media-transport", example: "udp,tcp,http") {
            guard let transport = MediaTransport(rawValue: name) else {
                throw CommandFailure.flag("--media-transport", "'\(Self.shown(name))' is not a media transport (udp, tcp, http)")
            }
            transports.insert(transport)
        }
        if transports.isEmpty { transports = Set(MediaTransport.allCases) }
        var specs: [PortSpec] = []
        for text in try Self.items(ports, flag: "--ports", example: "554/tcp,6970-6999/udp") {
            do throws(ModelError) { specs.append(try PortSpec(parsing: text)) } catch {
                throw CommandFailure.flag("--ports", error.description)
            }
        }
        let fleet = try hostPlans(in: context)
        guard let host = fleet.first?.host else {
            throw CommandFailure(.usage, "name a host to probe, or --targets FILE, e.g. portctl probe 192.0.2.1 dss")
        }
        let profiles = fleet[0].profiles
        let (targets, configuredPaths) = try targets(profiles: profiles, flags: flags, specs: specs, seed: seed, in: context)
        guard !targets.isEmpty else { throw CommandFailure(.usage, "name profiles or --ports to probe, e.g. portctl probe \(host) dss") }
        try Self.checkHost(host, source: source)
        var prober = Prober(host: host)
        prober.timeout = seconds
        prober.concurrency = concurrency
        prober.source = source
        prober.tls = TLSProbe.check
        prober.paths = ProbePaths(rtsp: path ?? configuredPaths[.rtsp], rtspMustPlay: path != nil, icy: configuredPaths[.icy])
        prober.icmpBudget = retryBudget
        if let key {
            // The same loader as streamd's --key: one file gives both the same key.
            let loaded: KnockKey.Loaded
            do { loaded = try KnockKey.load(path: key) } catch { throw CommandFailure.flag("--key", "\(error)") }
            for warning in loaded.warnings { context.warning("--key: \(warning)") }
            prober.key = loaded.key
        }
        if fleet.count > 1 || targetsFile != nil {
            guard !media else { throw CommandFailure.flag("--media", "plays one host at a time; probe the hosts one by one with --media") }
            return try runFleet(fleet, template: prober, specs: specs, seed: seed, in: context)
        }
        let checks = media ? MediaProbe.checks(for: targets, transports: transports) : []
        if media, checks.isEmpty {
            throw CommandFailure.flag(
                "--media",
                "nothing to play: the plan has no RTSP port (or none for --media-transport); name an RTSP profile or --ports 554/tcp")
        }
        var results = prober.run(
            targets,
            progress: { done, total in
                context.progress("probing \(host): \(done)/\(total)")
            },
            notice: { line in
                context.progress(line)
            })
        if media {
            var player = MediaProbe(host: host)
            player.timeout = seconds
            player.duration = mediaSeconds
            player.clients = clients
            player.source = source
            player.path = path ?? "/test"
            results += player.run(checks) { line in context.progress(line) }
        }
        context.progress("")
        switch format {
        case .table: context.out(ProbeReport.table(results, host: host))
        case .json: context.out(ProbeReport.json(results, host: host).pretty)
        case .junit: context.out(ProbeReport.junit(results, host: host))
        case .tap: context.out(ProbeReport.tap(results, host: host))
        }
        try writeJUnit(ProbeReport.junit(results, host: host))
        if !ProbeReport.passed(results) { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }
}
