import FoundationEssentials
import Glibc
import KnockAuth
import PlanRendering
import PortModel
import PortPlanning
import StreamWire

/// Runs every check in parallel under a concurrency bound, so a whole plan takes about one
/// timeout in the worst case rather than the sum of the timeouts (`CheckRunner`: TCP checks on a
/// pool of threads, UDP knocks on one thread).
public struct Prober: Sendable {
    public var host: String
    public var timeout: Double = 2
    /// Checks at once, and so sockets in flight: TCP checks take up to half, each on a thread of
    /// its own; the UDP knocks, the rest, all on one thread.
    public var concurrency = 128
    public var key: KnockKey?
    public var source: String?
    /// Speaks RTMPS and HTTPS through TLS; without it those ports get a TCP connect only.
    public var tls: TLSCheck?
    /// With a path, RTSP ports also get DESCRIBE for it, and must answer with an SDP.
    public var rtspPath: String? {
        get { paths.rtsp }
        set { paths.rtsp = newValue }
    }
    /// The stream names the checks ask for (--path, or those --config names).
    public var paths = ProbePaths()
    /// Paces every UDP knock to the host, resends and retries included (see `KnockPacer`).
    public var pacer = KnockPacer()
    /// Seconds spent, at most, on paced retries of silent UDP ports when the host rate-limits its
    /// ICMP unreachables (see `ICMPRetry`); 0 retries nothing.
    public var icmpBudget = ICMPRetry.defaultBudget

    public init(host: String) {
        self.host = host
    }

    /// UDP ranges up to this many ports are probed whole (a media range of 30 ports costs nothing).
    public static let wholeRangeLimit = 64

    /// The ports to probe for a plan's inbound openings: every TCP port; for UDP, ranges up to
    /// 64 ports in full, larger ones as their first port, last port and `sample`
    /// random ports in between, chosen reproducibly from `seed`. `full` probes every port.
    public static func targets(_ plan: Plan, sample: Int = 8, full: Bool = false, seed: UInt64 = 1) -> [ProbeTarget] {
        var generator = SeededRandom(seed: seed)
        var targets: [ProbeTarget] = []
        var seen = Set<String>()
        for entry in plan.inboundEntries {
            for contribution in entry.contributions {
                let spec = contribution.spec
                for port in ports(of: spec, sample: sample, full: full, generator: &generator)
                where seen.insert("\(port)/\(spec.transport.rawValue)").inserted {
                    targets.append(
                        ProbeTarget(
                            transport: spec.transport, port: port, service: contribution.service, labels: [contribution.label],
                            range: spec.description))
                }
            }
        }
        return targets
    }

    /// Targets from `--ports 554/tcp,6970-6999/udp`: the service is guessed from well-known ports.
    /// Ranges are sampled as a plan's are (`full` probes every port).
    public static func targets(ports specs: [PortSpec], sample: Int = 8, full: Bool = false, seed: UInt64 = 1) -> [ProbeTarget] {
        var generator = SeededRandom(seed: seed)
        return specs.flatMap { spec in
            ports(of: spec, sample: sample, full: full, generator: &generator).map { port in
                ProbeTarget(
                    transport: spec.transport, port: port, service: spec.transport == .udp ? .rtp : guessService(port), labels: ["--ports"],
                    range: spec.description)
            }
        }
    }

    /// A range's ports to probe: all of a TCP range or a small UDP range; of a large UDP range,
    /// the first, the last and `sample` others.
    static func ports(of spec: PortSpec, sample: Int, full: Bool, generator: inout SeededRandom) -> [Int] {
        let low = Int(spec.range.low.value)
        let high = Int(spec.range.high.value)
        if full || spec.transport == .tcp || spec.range.count <= max(sample + 2, Self.wholeRangeLimit) { return Array(low...high) }
        var chosen = Set([low, high])
        while chosen.count < sample + 2 { chosen.insert(low + 1 + Int(generator.next() % UInt64(high - low - 1))) }
        return chosen.sorted()
    }

    static func guessService(_ port: Int) -> Service {
        switch port {
        case 554, 7070, 8554: return .rtsp
        case 1935: return .rtmp
        case 8000, 8001: return .icy
        case 1755: return .mms
        case 443: return .https
        case 80, 8080, 8088, 1220: return .http
        default: return .other
        }
    }

    /// How long one port check may take before the probe stops waiting for it: a TCP check is a
    /// connect and at most three exchanges of one timeout each (OPTIONS and DESCRIBE, or a TLS
    /// session), so four timeouts and a margin. Waits for the knock pacer come on top.
    public static func checkLimit(timeout: Double) -> Double { 4 * timeout + 2 }

    /// Probes every target; `progress` is called after each one (from any thread) with done and
    /// total, `notice` when a phase that takes a while begins.
    public func run(
        _ targets: [ProbeTarget], progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }, notice: (String) -> Void = { _ in }
    ) -> [ProbeResult] {
        let results = CheckRunner.run(
            targets.map { CheckRunner.Check(prober: self, target: $0) }, width: max(1, concurrency), progress: progress)
        return retrySilent(results, notice: notice)
    }

    /// The TCP check of one target, as `run` makes it: for a pool that mixes several hosts' checks.
    func check(_ target: ProbeTarget) -> ProbeResult {
        ProbeCheck.run(target, host: host, timeout: timeout, source: source, tls: tls, paths: paths)
    }

    /// Knocks the silent UDP ports of a host that rate-limits ICMP again, within `icmpBudget`.
    func retrySilent(_ checked: [ProbeResult], notice: (String) -> Void) -> [ProbeResult] {
        var results = checked
        let host = self.host
        let key = self.key
        let source = self.source
        let pacer = self.pacer
        let retry = ICMPRetry(budget: icmpBudget)
        if retry.applies(to: results) {
            notice("retrying silent UDP ports: \(host) rate-limits ICMP (at most \(ProbeCheck.format(icmpBudget))s)")
            results = retry.run(results) { target, window in
                let job = KnockLoop.Job(
                    target: target, host: host, window: window, every: ICMPRetry.every, sends: Int(window / ICMPRetry.every), key: key,
                    source: source, pacer: pacer)
                // Filtered is the knock's word for silence, which the retry wants as nil.
                let result = KnockLoop.run([job], window: 1)[0]
                return result.verdict == .filtered ? nil : (result.verdict, result.detail)
            }
        }
        return results
    }
}

/// Paced retries of silent UDP ports on a host that rate-limits ICMP.
///
/// A Linux host sends ICMP port unreachables to one destination in a burst of about 6, then one
/// a second. So of 30 closed UDP ports probed at once, about 8 read "ICMP port unreachable" and
/// the rest are silent, as if a firewall dropped them. Once a host has answered any knock with
/// ICMP unreachable, its silent UDP ports are knocked again one at a time, every 0.25 s for up to
/// 2 s each (a denied ICMP costs the host nothing, so the knock that comes after the next
/// one-second token gets the answer), within `budget` seconds in all. A port still silent after
/// its retry is `filtered`; a port whose turn did not come before the budget ran out is
/// `closed-or-filtered`, never `filtered`. A host that sent no ICMP at all keeps `filtered`.
public struct ICMPRetry: Sendable {
    /// 30 seconds: enough for a 30-port media range behind no firewall.
    public static let defaultBudget = 30.0
    /// How long one port is knocked for: more than the second a host takes to earn its next ICMP.
    public static let window = 2.0
    public static let every = 0.25

    public var budget: Double
    let clock: @Sendable () -> Double

    public init(budget: Double, clock: @escaping @Sendable () -> Double = monotonic) {
        self.budget = budget
        self.clock = clock
    }

    /// True when some UDP port was closed by ICMP and another stayed silent.
    func applies(to results: [ProbeResult]) -> Bool {
        results.contains { $0.target.transport == .udp && $0.verdict == .closed }
            && results.contains { $0.target.transport == .udp && $0.verdict == .filtered }
    }

    /// The results, with the silent UDP ports retried: `knock` sends to one port for the given
    /// seconds and says what answered, or nil for silence.
    package func run(_ results: [ProbeResult], knock: (ProbeTarget, Double) -> (ProbeResult.Verdict, String)?) -> [ProbeResult] {
        guard applies(to: results) else { return results }
        var results = results
        let silent = results.indices.filter { results[$0].target.transport == .udp && results[$0].verdict == .filtered }.sorted {
            results[$0].target.port < results[$1].target.port
        }
        let end = clock() + budget
        var untried: [Int] = []
        for (position, index) in silent.enumerated() {
            guard end - clock() >= Self.window else {
                untried = Array(silent[position...])
                break
            }
            let started = clock()
            let first = results[index]
            let answer = knock(first.target, Self.window)
            let seconds = first.seconds + (clock() - started)
            if let (verdict, detail) = answer {
                results[index] = ProbeResult(
                    target: first.target, verdict: verdict, detail: detail + " (on a paced retry)", seconds: seconds)
            } else {
                results[index] = ProbeResult(
                    target: first.target, verdict: .filtered,
                    detail: first.detail + ", and again on a paced retry (this host sends ICMP unreachable for other ports)",
                    seconds: seconds)
            }
        }
        let udp = results.filter { $0.target.transport == .udp }
        let closed = udp.filter { $0.verdict == .closed }.count
        for index in untried {
            let first = results[index]
            results[index] = ProbeResult(
                target: first.target, verdict: .closedOrFiltered,
                detail: "no reply; this host rate-limits ICMP (\(closed) of \(udp.count) closed), so it may be closed rather than filtered",
                seconds: first.seconds)
        }
        return results
    }
}

/// A TLS session to a port, and the protocol inside it (RTMPS, HTTPS): given the host, port,
/// service and timeout, it answers with a verdict and a detail. portctl supplies one.
public typealias TLSCheck = @Sendable (_ host: String, _ port: Int, _ service: Service, _ timeout: Double) -> (ProbeResult.Verdict, String)

extension Prober {
    /// The address families `host` resolves to; both false when it does not resolve.
    public static func families(of host: String) -> (ipv4: Bool, ipv6: Bool) {
        let families = Set(ProbeSocket.resolve(host, port: 1, transport: .tcp).map { ProbeSocket.family(of: $0) })
        return (families.contains(AF_INET), families.contains(AF_INET6))
    }

    /// Whether `source` is an IP address (and which family), and whether this host can send
    /// from it: a local address binds, any other fails with "Cannot assign requested address".
    public enum SourceCheck: Equatable, Sendable {
        case ipv4(local: Bool)
        case ipv6(local: Bool)
        case notAnAddress
    }

    public static func check(source: String) -> SourceCheck {
        guard let (family, _) = CIDR.parseAddress(source) else { return .notAnAddress }
        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let descriptor = socket(domain, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        let local = descriptor >= 0 && ProbeSocket.bindSource(descriptor, source, family: domain) == nil
        if descriptor >= 0 { close(descriptor) }
        return family == .ipv4 ? .ipv4(local: local) : .ipv6(local: local)
    }
}
