import FoundationEssentials
import PortModel
import PortPlanning

/// `portctl status --format prometheus`: the status as node_exporter's textfile-collector format
/// (the Prometheus text exposition format 0.0.4), for a timer to write into its directory.
///
/// Names follow Prometheus conventions: the `portctl_` prefix, `_total` on counters, base units
/// (bytes, seconds). Every metric has its HELP and TYPE lines, even with no samples.
public enum StatusMetrics {
    /// What status knows beyond the report: whether the configurations the generation followed
    /// (`--config`) still say the same; nil when it followed none.
    public struct Extra: Sendable {
        public var configDrift: Bool?

        public init(configDrift: Bool? = nil) { self.configDrift = configDrift }
    }

    public static func render(_ report: StatusReport, extra: Extra = Extra()) -> String {
        var out = PrometheusText()
        func family(_ name: String, _ kind: PrometheusText.Kind, _ help: String, _ samples: [(labels: [(String, String)], value: String)]) {
            out.family(name, kind, help, samples)
        }
        let rows = report.rows.filter { $0.entry.direction.needsInboundRule }
        func labels(_ row: StatusReport.Row) -> [(String, String)] {
            [
                ("profile", row.entry.profiles.joined(separator: ",")), ("opening", row.entry.labels.joined(separator: ",")),
                ("proto", row.entry.transport.rawValue), ("port", row.entry.range.description), ("from", row.entry.scope.name),
            ]
        }
        family(
            "portctl_opening_packets_total", .counter, "Packets accepted by each opening's set element since the generation was applied.",
            rows.compactMap { row in row.packets.map { (labels(row), String($0)) } })
        family(
            "portctl_opening_bytes_total", .counter, "Bytes accepted by each opening's set element since the generation was applied.",
            rows.compactMap { row in row.bytes.map { (labels(row), String($0)) } })
        family("portctl_generation", .gauge, "The live generation; 0 when nothing is applied.", [([], String(report.generation))])
        let drifted = report.drift.map { $0.isEmpty ? "0" : "1" }
        family(
            "portctl_drift", .gauge, "1 when the live rules differ from the applied generation; no sample when it cannot be told.",
            drifted.map { [([], $0)] } ?? [])
        family(
            "portctl_config_drift", .gauge,
            "1 when a server configuration the generation followed (--config) now says something else; no sample without --config.",
            extra.configDrift.map { [([], $0 ? "1" : "0")] } ?? [])
        family(
            "portctl_blocking_tables", .gauge, "Other tables whose input base chains drop a planned opening.",
            [([], String(blockingTables(report).count))])
        family(
            "portctl_pending_confirmation", .gauge, "1 when an applied change awaits 'portctl confirm'.",
            [([], report.pending == nil ? "0" : "1")])
        let applied = report.meta.flatMap { try? Date($0.time, strategy: .iso8601) }
        family(
            "portctl_last_apply_timestamp_seconds", .gauge, "When the live generation was applied, in seconds since the epoch.",
            applied.map { [([], String(Int($0.timeIntervalSince1970)))] } ?? [])
        family(
            "portctl_persisted", .gauge, "1 when the live generation is restored at boot (--persist).",
            [([], report.persisted ? "1" : "0")])
        return out.text
    }

    /// The distinct tables (`ip filter`, `inet firewalld`) that drop some planned opening for sure.
    public static func blockingTables(_ report: StatusReport) -> Set<String> {
        var tables = Set<String>()
        for row in report.rows {
            for verdict in row.verdicts {
                if case .blocked(let table, _, _) = verdict.verdict { tables.insert(table) }
            }
        }
        return tables
    }
}
