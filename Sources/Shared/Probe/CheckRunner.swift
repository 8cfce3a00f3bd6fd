import PortModel

#if canImport(Glibc)
    import Glibc
#endif

/// Runs a probe's checks, of one host or of many: the TCP checks on the worker pool (a thread
/// each, as their protocol exchanges block), and the UDP knocks in `KnockLoop` on one thread of
/// its own, both at once. `width` bounds the checks in flight: the TCP checks take up to half
/// of it (all of it without knocks), the knocks the rest.
enum CheckRunner {
    struct Check: Sendable {
        var prober: Prober
        var target: ProbeTarget
    }

    /// The results in the order of `checks`; `progress` gets done and total over both kinds.
    static func run(_ checks: [Check], width: Int, progress: @escaping @Sendable (Int, Int) -> Void) -> [ProbeResult] {
        let total = checks.count
        let tcp = checks.indices.filter { checks[$0].target.transport == .tcp }
        let udp = checks.indices.filter { checks[$0].target.transport != .tcp }
        let tcpWidth = udp.isEmpty ? max(1, width) : max(1, min(tcp.count, width / 2))
        let window = max(1, width - (tcp.isEmpty ? 0 : tcpWidth))
        raiseDescriptorLimit(to: width + 64)
        let counter = Counter()
        let jobs = udp.map {
            let prober = checks[$0].prober
            return KnockLoop.Job(
                target: checks[$0].target, host: prober.host, timeout: prober.timeout, key: prober.key, source: prober.source,
                pacer: prober.pacer)
        }
        let knocks = Outcome()
        if !jobs.isEmpty {
            let run: @Sendable () -> Void = { knocks.set(KnockLoop.run(jobs, window: window) { _ in progress(counter.add(), total) }) }
            // Alone, the loop runs here; beside the pool, on a thread of its own.
            if tcp.isEmpty { run() } else { startThread(stackSize: 512 * 1024, run) }
        }
        var results = [ProbeResult?](repeating: nil, count: total)
        if !tcp.isEmpty {
            let limit = tcp.map { Prober.checkLimit(timeout: checks[$0].prober.timeout) }.max() ?? Prober.checkLimit(timeout: 2)
            let pooled = WorkerPool.run(
                count: tcp.count, width: tcpWidth, limit: limit,
                work: { index in checks[tcp[index]].prober.check(checks[tcp[index]].target) },
                overdue: { index in
                    ProbeResult(
                        target: checks[tcp[index]].target, verdict: .error,
                        detail:
                            "the check did not finish within \(ProbeCheck.format(limit))s (4 timeouts and 2s); the probe stopped waiting for it",
                        seconds: limit)
                },
                done: { _ in progress(counter.add(), total) })
            for (index, result) in zip(tcp, pooled) { results[index] = result }
        }
        if !jobs.isEmpty {
            for (index, result) in zip(udp, knocks.wait()) { results[index] = result }
        }
        return results.enumerated().map {
            $0.element ?? ProbeResult(target: checks[$0.offset].target, verdict: .error, detail: "not checked", seconds: 0)
        }
    }

    /// Raises the soft limit on open files towards `needed` (at most the hard limit): a wide
    /// probe holds a socket per check in flight, and the usual soft limit is 1024.
    static func raiseDescriptorLimit(to needed: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(needed) else { return }
        limit.rlim_cur = min(limit.rlim_max, rlim_t(needed))
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }

    /// Checks done, over both kinds.
    private final class Counter: @unchecked Sendable {
        private let lock = Condition()
        private var done = 0

        func add() -> Int {
            lock.lock()
            defer { lock.unlock() }
            done += 1
            return done
        }
    }

    /// The knock loop's results, waited for. The loop ends by its knocks' deadlines.
    private final class Outcome: @unchecked Sendable {
        private let condition = Condition()
        private var results: [ProbeResult]?

        func set(_ value: [ProbeResult]) {
            condition.lock()
            results = value
            condition.signal()
            condition.unlock()
        }

        func wait() -> [ProbeResult] {
            condition.lock()
            defer { condition.unlock() }
            // Bounded (a day): the loop ends by its knocks' deadlines, pacer waits included.
            for _ in 0..<86_400 where results == nil { condition.wait(seconds: 1) }
            return results ?? []
        }
    }
}
