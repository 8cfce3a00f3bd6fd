import Foundation

/// Runs every check in parallel under a concurrency bound, so a whole plan takes about one
/// timeout in the worst case rather than the sum of the timeouts.
public struct Prober: Sendable {
    public var host: String
    public var timeout: Double = 2
    public var concurrency = 128
    public var key: KnockKey?
    public var source: String?
    /// Speaks RTMPS and HTTPS through TLS; without it those ports get a TCP connect only.
    public var tls: TLSCheck?
    /// With a path, RTSP ports also get DESCRIBE for it, and must answer with an SDP.
    public var rtspPath: String?

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
                let low = Int(spec.range.low.value), high = Int(spec.range.high.value)
                let labels = [contribution.label]
                let ports: [Int]
                if full || spec.transport == .tcp || spec.range.count <= max(sample + 2, Self.wholeRangeLimit) {
                    ports = Array(low...high)
                } else {
                    var chosen = Set([low, high])
                    while chosen.count < sample + 2 { chosen.insert(low + 1 + Int(generator.next() % UInt64(high - low - 1))) }
                    ports = chosen.sorted()
                }
                for port in ports where seen.insert("\(port)/\(spec.transport.rawValue)").inserted {
                    targets.append(ProbeTarget(transport: spec.transport, port: port, service: contribution.service, labels: labels, range: spec.description))
                }
            }
        }
        return targets
    }

    /// Targets from `--ports 554/tcp,6970-6999/udp`: the service is guessed from well-known ports.
    public static func targets(ports specs: [PortSpec]) -> [ProbeTarget] {
        specs.flatMap { spec in
            (Int(spec.range.low.value)...Int(spec.range.high.value)).map { port in
                ProbeTarget(transport: spec.transport, port: port, service: spec.transport == .udp ? .rtp : guessService(port), labels: ["--ports"], range: spec.description)
            }
        }
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

    /// Probes every target; `progress` is called after each one (from any thread) with done and total.
    public func run(_ targets: [ProbeTarget], progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) -> [ProbeResult] {
        // Threads of our own: each check blocks in poll(), and Dispatch on Linux keeps its pool
        // near the core count for blocking work, which would serialise the timeouts.
        let results = ResultBox(count: targets.count)
        let gate = DispatchSemaphore(value: max(1, concurrency))
        let group = DispatchGroup()
        let host = self.host, timeout = self.timeout, key = self.key, source = self.source, tls = self.tls, path = self.rtspPath
        for (index, target) in targets.enumerated() {
            gate.wait()
            group.enter()
            let thread = Thread {
                let result = ProbeCheck.run(target, host: host, timeout: timeout, key: key, source: source, tls: tls, rtspPath: path)
                let done = results.set(index, result)
                gate.signal()
                progress(done, targets.count)
                group.leave()
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
        group.wait()
        return results.all
    }
}

/// A TLS session to a port, and the protocol inside it (RTMPS, HTTPS): given the host, port,
/// service and timeout, it answers with a verdict and a detail. portctl supplies one.
public typealias TLSCheck = @Sendable (_ host: String, _ port: Int, _ service: Service, _ timeout: Double) -> (ProbeResult.Verdict, String)

/// Results gathered from the checks' threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [ProbeResult?]
    private var done = 0

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: ProbeResult) -> Int {
        lock.lock()
        defer { lock.unlock() }
        results[index] = result
        done += 1
        return done
    }

    var all: [ProbeResult] {
        lock.lock()
        defer { lock.unlock() }
        return results.compactMap { $0 }
    }
}

