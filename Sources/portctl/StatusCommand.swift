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

/// `portctl status`: the live generation, per-opening counters, drift, and other tables' drops.
struct StatusCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the applied plan, its counters, drift, and drops by other tables.",
        discussion: """
            For every opening, OTHER TABLES says whether another table's input base chain (firewalld, \
            Docker, iptables-nft, your own) drops it anyway: an accept in portctl's table does not \
            cancel a drop elsewhere. Drift means portctl's table was edited by hand since it was applied.
            Exits 0, or 1 when drift or a blocking table is found, or when a server configuration the \
            generation followed (--config) now says something else.

            --format prometheus writes node_exporter's textfile-collector format (portctl(8), \
            METRICS); the portctl-metrics.timer unit writes it every 30 seconds.

            EXAMPLES:
              portctl status
              portctl status --json
              portctl status --format prometheus > /var/lib/prometheus/node-exporter/portctl.prom
            """)

    @OptionGroup var state: StateDirectoryOption
    @Flag(help: "Print JSON (same as --format json).") var json = false

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, prometheus
    }

    @Option(
        help: ArgumentHelp(
            "Output format: table, json, or prometheus (node_exporter's textfile format; exits 0 whenever the state could be read).",
            valueName: "format"))
    var format: Format = .table

    func run(in context: CommandContext) throws {
        try state.check()
        let report: StatusReport
        do throws(ApplyFailure) {
            report = try StatusReport.build(store: state.store, backend: LibNftablesBackend())
        } catch {
            throw error.commandFailure
        }
        let catalog = ProfileCatalog(directories: ProfileCatalog.defaultDirectories(extra: [], environment: context.environment))
        let configDrift = ConfigDrift.check(store: state.store, catalog: catalog)
        if format == .prometheus {
            // Drift and blocking tables are metrics here: a timer that writes them must not fail.
            context.out(StatusMetrics.render(report, extra: .init(configDrift: configDrift.map { !$0.findings.isEmpty })))
            return
        }
        if json || format == .json {
            var value = StatusRendering.json(report)
            if case .object(var fields) = value {
                fields.append(
                    (
                        "config_drift",
                        configDrift.map {
                            .object([
                                ("configs", .array($0.configs.map { .string($0) })), ("findings", .array($0.findings.map { .string($0) })),
                            ])
                        }
                            ?? .null
                    ))
                value = .object(fields)
            }
            context.out(value.pretty)
        } else {
            var text = StatusRendering.text(report)
            if let configDrift {
                text +=
                    configDrift.findings.isEmpty
                    ? "\nConfiguration: \(configDrift.configs.joined(separator: ", ")) still say what generation \(report.generation) opens\n"
                    : "\nConfiguration drift:\n" + configDrift.findings.map { "  \($0)\n" }.joined() + "  run \(configDrift.remedy!)\n"
            }
            context.out(text)
        }
        let blocked = report.rows.contains { $0.verdicts.contains { $0.verdict.isBlocked } }
        let configDrifted = !(configDrift?.findings.isEmpty ?? true)
        if !(report.drift?.isEmpty ?? true) || blocked || !report.unrecorded.isEmpty || configDrifted {
            throw ExitCode(ExitStatus.checkFailed.rawValue)
        }
    }
}

enum StatusRendering {
    static func text(_ report: StatusReport) -> String {
        guard let meta = report.meta else {
            var out = "portctl has nothing applied.\n"
            for placement in report.unrecorded {
                out +=
                    "But \(placement) is live with no record in this state directory (applied with another --state-dir, or the state was lost); 'portctl remove' takes it out.\n"
            }
            if report.persisted { out += "Persisted for boot: yes (stale; run portctl remove)\n" }
            return out
        }
        var out = "Generation \(report.generation), applied \(meta.time): \(meta.profiles.joined(separator: " "))"
        out += meta.options.isEmpty ? "" : " (options: \(meta.options.joined(separator: ", ")))"
        out += "\nPlacement: \(meta.placement)\n"
        if let pending = report.pending {
            let left = max(0, Int(pending.deadline - Date().timeIntervalSince1970))
            out += "Pending: generation \(pending.generation) rolls back in \(left)s unless confirmed (portctl confirm)\n"
        }
        out += "Persisted for boot: \(report.persisted ? "yes" : "no")\n"
        if let drift = report.drift {
            if drift.isEmpty {
                out += "Drift: none\n"
            } else {
                out +=
                    "Drift: the live rules differ from generation \(report.generation) (edited by hand?); 'portctl apply' restores them\n"
                for line in drift.added { out += "  + \(String(line.prefix(160)))\n" }
                for line in drift.missing { out += "  - \(String(line.prefix(160)))\n" }
            }
        } else if report.generation > 0 {
            out +=
                "Drift: unknown (a large plan is not read back after its commit, and the ruleset has changed since); 'portctl apply' re-asserts it\n"
        }
        var rows = [["PORTS", "FROM", "OPENINGS", "PACKETS", "BYTES", "OTHER TABLES"]]
        for row in report.rows {
            let verdicts =
                row.verdicts.isEmpty
                ? (row.entry.direction.needsInboundRule ? "open" : "-")
                : row.verdicts.map { ($0.family.map { "\($0.rawValue): " } ?? "") + $0.verdict.description }.joined(separator: "; ")
            rows.append([
                row.entry.spec.description, row.entry.scope.name, row.entry.labels.joined(separator: ", "),
                row.packets.map(String.init) ?? "-", row.bytes.map(String.init) ?? "-", verdicts,
            ])
        }
        out += "\n" + PlanTable.layout(rows)
        if !report.advice.isEmpty {
            out += "\n" + report.advice.map { "hint: \($0.text)" }.joined(separator: "\n") + "\n"
        }
        return out
    }

    static func json(_ report: StatusReport) -> JSONValue {
        .object([
            ("generation", .int(report.generation)),
            ("applied", report.meta.map { .string($0.time) } ?? .null),
            ("profiles", .array((report.meta?.profiles ?? []).map { .string($0) })),
            ("options", .array((report.meta?.options ?? []).map { .string($0) })),
            ("placement", report.meta.map { .string($0.placement) } ?? .null),
            (
                "pending",
                report.pending.map { .object([("generation", .int($0.generation)), ("deadline", .int(Int($0.deadline)))]) } ?? .null
            ),
            ("persisted", .bool(report.persisted)),
            // The tables whose input base chains drop a planned opening for sure, by name.
            ("blocking_tables", .array(StatusMetrics.blockingTables(report).sorted().map { .string($0) })),
            (
                "drift",
                report.drift.map {
                    .object([("added", .array($0.added.map { .string($0) })), ("missing", .array($0.missing.map { .string($0) }))])
                } ?? .null
            ),
            (
                "openings",
                .array(
                    report.rows.map { row in
                        .object([
                            ("ports", .string(row.entry.range.description)), ("transport", .string(row.entry.transport.rawValue)),
                            ("from", .string(row.entry.scope.name)), ("openings", .array(row.entry.labels.map { .string($0) })),
                            ("packets", row.packets.map { .int($0) } ?? .null), ("bytes", row.bytes.map { .int($0) } ?? .null),
                            (
                                "other_tables",
                                .array(
                                    row.verdicts.map { verdict in
                                        .object([
                                            ("family", verdict.family.map { .string($0.rawValue) } ?? .null),
                                            ("verdict", .string(verdict.verdict.description)),
                                            ("blocked", .bool(verdict.verdict.isBlocked)),
                                        ])
                                    })
                            ),
                        ])
                    })
            ),
            ("advice", .array(report.advice.map { .string($0.text) })),
            ("unrecorded", .array(report.unrecorded.map { .string($0.description) })),
        ])
    }
}
