import PortModel
import PortPlanning

/// The port-80 rule of `plan --port80` and `apply --port80`: RTSP (or RTMPT, MMSH) tunnelled over
/// HTTP on port 80 breaks when a web server holds port 80, or will take it at boot, so such a plan
/// is refused unless the admin says `--force`.
public enum Port80Gate {
    public enum Verdict: Sendable, Equatable {
        /// The plan does not use port 80 for tunnelling, or nothing claims port 80.
        case clear
        /// A web server holds or claims port 80: `advice` says which and what to do.
        case refused(advice: String)
        /// The same, overridden by --force: the warning to show.
        case forced(warning: String)
    }

    /// True when the plan tunnels over port 80: `--port80`, or a server configuration (`--config`)
    /// that puts a listener that conflicts with web servers on 80/tcp.
    public static func applies(to plan: Plan) -> Bool {
        plan.options.contains("port80") || configured(plan)
    }

    static func configured(_ plan: Plan) -> Bool {
        plan.openings.contains { resolved in
            resolved.opening.citation != nil && resolved.opening.conflicts == "web-server"
                && resolved.opening.ports.contains { $0.transport == .tcp && $0.range.contains(PortNumber.http) }
        }
    }

    /// Checks `plan` against the host under `root` (`/` for this one).
    public static func check(_ plan: Plan, force: Bool, root: String = "/") -> Verdict {
        guard applies(to: plan) else { return .clear }
        let http = PortSpec(PortRange(single: PortNumber.http), .tcp)
        let needing = plan.inboundEntries.filter { $0.transport == .tcp && $0.range.contains(port: 80) }
        let report = ConflictReport.check(
            [(http, needing.flatMap(\.labels), needing.flatMap { $0.contributions.map(\.service) })],
            profiles: plan.profiles.map(\.name), root: root)
        guard let row = report.rows.first, row.isConflict, row.webServer != nil, let advice = row.advice else { return .clear }
        return force ? .forced(warning: "--force: going ahead although \(advice)") : .refused(advice: advice)
    }
}
