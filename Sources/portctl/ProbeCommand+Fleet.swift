import ArgumentParser
import CommandSupport
import FoundationEssentials
import PortModel
import PortPlanning
import PortProbe
import PortProfiles

#if canImport(Glibc)
    import Glibc
#endif

/// Several hosts in one probe: `portctl probe HOST HOST... PROFILE...` and `--targets FILE`.
extension ProbeCommand {
    struct HostPlan {
        var host: String
        var profiles: [String]
        var flags: PlanFlags
        /// The command line's profiles and flags, as every other such host has: one plan serves all.
        var shared = true
    }

    /// The hosts to probe, each with its profiles and plan flags: the command line's words split
    /// into hosts and profiles, then the lines of --targets.
    func hostPlans(in context: CommandContext) throws(CommandFailure) -> [HostPlan] {
        let catalog = try flags.profileSource.catalog(in: context)
        var hosts: [String] = []
        var names: [String] = []
        for (index, word) in ((firstHost.map { [$0] } ?? []) + profiles).enumerated() {
            if index == 0, targetsFile == nil {
                hosts.append(word)
            } else if case .success = catalog.load(word) {
                names.append(word)
            } else if Self.looksLikeHost(word) {
                hosts.append(word)
            } else {
                names.append(word)  // an unknown profile: the plan says so, with a suggestion
            }
        }
        var plans = hosts.map { HostPlan(host: $0, profiles: names, flags: flags) }
        if let targetsFile { plans += try Self.targets(file: targetsFile, profiles: names, flags: flags, catalog: catalog) }
        return plans
    }

    /// `192.0.2.7`, `edge1.example.org`, `2001:db8::7`, `localhost`: not a profile name.
    static func looksLikeHost(_ word: String) -> Bool { word == "localhost" || word.contains(".") || word.contains(":") }

    /// The lines of a --targets file: `HOST [PROFILE...] [PLAN FLAGS...]`, `#` comments.
    static func targets(file: String, profiles: [String], flags: PlanFlags, catalog: ProfileCatalog) throws(CommandFailure) -> [HostPlan] {
        guard let data = FileManager.default.contents(atPath: file), let text = String(validating: data, as: UTF8.self) else {
            throw CommandFailure(.noInput, "--targets: cannot read '\(Shown.value(file))'")
        }
        var plans: [HostPlan] = []
        for (offset, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let host = words.first else { continue }
            let rest = Array(words.dropFirst())
            guard !rest.isEmpty else {
                plans.append(HostPlan(host: host, profiles: profiles, flags: flags))
                continue
            }
            let names = Array(rest.prefix { !$0.hasPrefix("-") })
            let lineFlags: PlanFlags
            do { lineFlags = try PlanFlags.parse(Array(rest.dropFirst(names.count))) } catch {
                throw .flag("--targets", "\(file):\(offset + 1): \(PlanFlags.message(for: error))")
            }
            plans.append(HostPlan(host: host, profiles: names.isEmpty ? profiles : names, flags: lineFlags, shared: false))
        }
        guard !plans.isEmpty else { throw .flag("--targets", "\(file) lists no host (one a line: HOST [PROFILE...] [PLAN FLAGS...])") }
        return plans
    }

    /// The targets of one host's plan plus --ports, and the stream names its --config files give.
    func targets(profiles: [String], flags: PlanFlags, specs: [PortSpec], seed: UInt64, in context: CommandContext) throws(CommandFailure)
        -> ([ProbeTarget], [Service: String])
    {
        var targets: [ProbeTarget] = []
        var configuredPaths: [Service: String] = [:]
        if !profiles.isEmpty || !flags.configs.isEmpty {
            let plan = Planner.plan(try flags.request(profiles: profiles, in: context))
            // Stream names the configurations give (--config): the first of each protocol.
            for profile in plan.profiles {
                for (service, names) in profile.configuration?.streamPaths ?? [:] where configuredPaths[service] == nil {
                    configuredPaths[service] = names.first.map(ProbePaths.percentEncoded)
                }
            }
            targets = Prober.targets(plan, sample: sample, full: full, seed: seed)
        }
        var seen = Set(targets.map { "\($0.port)/\($0.transport.rawValue)" })
        targets += Prober.targets(ports: specs, sample: sample, full: full, seed: seed).filter {
            seen.insert("\($0.port)/\($0.transport.rawValue)").inserted
        }
        return (targets, configuredPaths)
    }

    /// Probes every host in parallel (--concurrency checks per host, 1024 threads at most) and
    /// prints one report.
    func runFleet(_ fleet: [HostPlan], template: Prober, specs: [PortSpec], seed: UInt64, in context: CommandContext) throws {
        var hosts: [FleetProbe.Host] = []
        var shared: ([ProbeTarget], [Service: String])?
        for plan in fleet {
            let (targets, paths) =
                try (plan.shared ? shared : nil)
                ?? targets(profiles: plan.profiles, flags: plan.flags, specs: specs, seed: seed, in: context)
            if plan.shared { shared = (targets, paths) }
            guard !targets.isEmpty else {
                throw CommandFailure(.usage, "\(plan.host): name profiles or --ports to probe, e.g. \(plan.host) dss")
            }
            try Self.checkHost(plan.host, source: source)
            var prober = template
            prober.host = plan.host
            prober.pacer = KnockPacer()
            prober.paths = ProbePaths(rtsp: path ?? paths[.rtsp], rtspMustPlay: path != nil, icy: paths[.icy])
            hosts.append(FleetProbe.Host(prober: prober, targets: targets))
        }
        let count = hosts.count
        let results = FleetProbe.run(
            hosts, width: FleetProbe.width(perHost: concurrency, hosts: count),
            progress: { done, total in context.progress("probing \(count) hosts: \(done)/\(total)") },
            notice: { context.progress($0) })
        context.progress("")
        let report = zip(fleet, results).map { (host: $0.host, results: $1) }
        switch format {
        case .table: context.out(ProbeReport.table(report))
        case .json: context.out(ProbeReport.json(report).pretty)
        case .junit: context.out(ProbeReport.junit(report))
        case .tap: context.out(ProbeReport.tap(report))
        }
        try writeJUnit(ProbeReport.junit(report))
        if !ProbeReport.passed(report) { throw ExitCode(ExitStatus.checkFailed.rawValue) }
    }
}

extension ProbeCommand {
    /// --junit-file: the JUnit report, written whole or not at all (beside it, then renamed).
    /// `report` is made only when --junit-file is given.
    func writeJUnit(_ report: @autoclosure () -> String) throws(CommandFailure) {
        guard let junitFile else { return }
        let report = report()
        let temporary = junitFile + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(report.utf8)), rename(temporary, junitFile) == 0 else {
            unlink(temporary)
            throw CommandFailure(.cannotCreate, "--junit-file: cannot write '\(Shown.value(junitFile))'")
        }
    }
}

extension PlanFlags {
    /// ArgumentParser's words for a bad flag, without its usage text.
    static func message(for error: any Error) -> String {
        let full = PlanFlags.fullMessage(for: error)
        return String(full.split(separator: "\n").first ?? Substring(full))
    }
}
