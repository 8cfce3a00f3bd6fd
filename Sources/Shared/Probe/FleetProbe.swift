/// Probes several hosts at once (`portctl probe HOST... PROFILE...`, `--targets FILE`): every
/// host's checks share one `CheckRunner` (one pool for the TCP checks, one knock loop for the
/// UDP ones), so twenty hosts take about as long as the slowest.
public enum FleetProbe {
    public struct Host: Sendable {
        public var prober: Prober
        public var targets: [ProbeTarget]

        public init(prober: Prober, targets: [ProbeTarget]) {
            self.prober = prober
            self.targets = targets
        }
    }

    /// Checks in flight over all hosts: `perHost` for each host, at most `maximum` in all.
    public static func width(perHost: Int, hosts: Int, maximum: Int = 1024) -> Int {
        max(1, min(maximum, perHost * max(1, hosts)))
    }

    /// Each host's results, in the order of `hosts`; `progress` gets done and total over all hosts.
    public static func run(
        _ hosts: [Host], width: Int, progress: @escaping @Sendable (Int, Int) -> Void = { _, _ in },
        notice: (String) -> Void = { _ in }
    ) -> [[ProbeResult]] {
        var checks: [CheckRunner.Check] = []
        var owners: [Int] = []
        for (hostIndex, host) in hosts.enumerated() {
            for target in host.targets {
                checks.append(CheckRunner.Check(prober: host.prober, target: target))
                owners.append(hostIndex)
            }
        }
        let flat = CheckRunner.run(checks, width: width, progress: progress)
        var results = hosts.map { _ in [ProbeResult]() }
        for (index, owner) in owners.enumerated() { results[owner].append(flat[index]) }
        for index in hosts.indices { results[index] = hosts[index].prober.retrySilent(results[index], notice: notice) }
        return results
    }
}
