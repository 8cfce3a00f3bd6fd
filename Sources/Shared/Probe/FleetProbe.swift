/// Probes several hosts at once (`portctl probe HOST... PROFILE...`, `--targets FILE`): every
/// host's checks share one pool of threads, so twenty hosts take about as long as the slowest.
public enum FleetProbe {
    public struct Host: Sendable {
        public var prober: Prober
        public var targets: [ProbeTarget]

        public init(prober: Prober, targets: [ProbeTarget]) {
            self.prober = prober
            self.targets = targets
        }
    }

    /// The threads of the shared pool: `perHost` for each host, at most `maximum` in all.
    public static func width(perHost: Int, hosts: Int, maximum: Int = 1024) -> Int {
        max(1, min(maximum, perHost * max(1, hosts)))
    }

    /// Each host's results, in the order of `hosts`; `progress` gets done and total over all hosts.
    public static func run(
        _ hosts: [Host], width: Int, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
        notice: (String) -> Void = { _ in }
    ) -> [[ProbeResult]] {
        var jobs: [(host: Int, target: Int)] = []
        for (hostIndex, host) in hosts.enumerated() {
            for targetIndex in host.targets.indices { jobs.append((hostIndex, targetIndex)) }
        }
        let limit = hosts.map { Prober.checkLimit(timeout: $0.prober.timeout) }.max() ?? Prober.checkLimit(timeout: 2)
        let all = jobs
        let flat = WorkerPool.run(
            count: all.count, width: width, limit: limit,
            work: { index, lease in
                let job = all[index]
                return hosts[job.host].prober.check(hosts[job.host].targets[job.target], lease: lease)
            },
            overdue: { index in
                let job = all[index]
                return ProbeResult(
                    target: hosts[job.host].targets[job.target], verdict: .error,
                    detail:
                        "the check did not finish within \(ProbeCheck.format(limit))s (4 timeouts and 2s); the probe stopped waiting for it",
                    seconds: limit)
            },
            done: { progress($0, all.count) })
        var results = hosts.map { _ in [ProbeResult]() }
        for (index, job) in all.enumerated() { results[job.host].append(flat[index]) }
        for index in hosts.indices { results[index] = hosts[index].prober.retrySilent(results[index], notice: notice) }
        return results
    }
}
