import ArgumentParser
import CommandSupport
import FirewallState
import FoundationEssentials
import Glibc
import HostInspection
import KnockAuth
import NftablesKernel
import PlanRendering
import PortModel
import PortPlanning
import PortProbe
import PortProfiles
import StreamWire

/// `portctl conflicts`: who holds each port a plan needs now, and who will at boot.
struct ConflictsCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "conflicts",
        abstract: "Show who holds each port a plan needs now, and which web server will claim one at boot.",
        discussion: """
            For every port the plan needs (and every --port): free; held by PID EXECUTABLE (UNIT); \
            claimed at boot by UNIT (FILE:LINE), for a web server enabled in systemd whose \
            configuration listens there; or held by the kind of streaming server the plan is for, \
            which is informational. A web server on a port the plan needs is an error that says \
            what to do. Without root, owners of other users' sockets are hidden; the ports are still shown.

            Exits 0 when nothing conflicts, 2 when something does.

            EXAMPLES:
              portctl conflicts dss --port80
              portctl conflicts --port 80/tcp --port 554/tcp
              portctl conflicts dss rtmp --json
            """)

    @Argument(help: ArgumentHelp("Profiles whose ports to check.", valueName: "profile"))
    var profiles: [String] = []

    @OptionGroup var flags: PlanFlags

    @Option(
        name: .customLong("port"),
        help: ArgumentHelp("Also check this port or range, e.g. 80/tcp or 6970-6999/udp (repeatable).", valueName: "port/proto"))
    var ports: [String] = []

    @Option(help: ArgumentHelp("Read /proc, /etc and /run under this directory instead of /.", valueName: "dir"))
    var root = "/"

    @Flag(help: "Print JSON.") var json = false

    func run(in context: CommandContext) throws {
        // A root that does not exist has no /proc: every port would read as free.
        var isDirectory = false
        guard !root.isEmpty, FileManager.default.fileExists(atPath: root, isDirectory: &isDirectory), isDirectory else {
            throw CommandFailure.flag(
                "--root", "'\(Shown.value(root))' is not an existing directory (it must hold the proc, etc and run of the system to check)")
        }
        var targets: [(spec: PortSpec, labels: [String], services: [Service])] = []
        var profileNames: [String] = []
        if !profiles.isEmpty || !flags.configs.isEmpty {
            let plan = Planner.plan(try flags.request(profiles: profiles, in: context))
            profileNames = plan.profiles.map(\.name)
            for entry in plan.entries where entry.direction.needsInboundRule || entry.direction == .both {
                targets.append((entry.spec, entry.labels, entry.contributions.map(\.service)))
            }
        }
        for text in try PlanInputs.items(ports, flag: "--port") {
            do throws(ModelError) {
                targets.append((try PortSpec(parsing: text), ["--port"], []))
            } catch {
                throw CommandFailure.flag("--port", error.description)
            }
        }
        guard !targets.isEmpty else {
            throw CommandFailure(.usage, "name profiles or --port PORT/PROTO to check, e.g. portctl conflicts dss --port80")
        }
        let report = ConflictReport.check(targets, profiles: profileNames, root: root)
        if report.hiddenProcesses > 0, getuid() != 0 {
            context.notice(
                "not running as root: owners of \(report.hiddenProcesses) other users' processes are hidden; ports are still shown (run with sudo to see who holds them)"
            )
        }
        if json {
            context.out(ConflictsRendering.json(report).pretty)
        } else {
            context.out(ConflictsRendering.text(report))
            for row in report.rows { if let advice = row.advice { context.error(advice) } }
        }
        if report.hasConflict { throw ExitCode(ExitStatus.conflict.rawValue) }
    }
}

enum ConflictsRendering {
    static func text(_ report: ConflictReport) -> String {
        var rows = [["PORT", "NEEDED BY", "STATUS"]]
        for row in report.rows {
            for (index, finding) in row.findings.enumerated() {
                rows.append(index == 0 ? [row.spec.description, row.labels.joined(separator: ", "), finding] : ["", "", finding])
            }
        }
        return PlanTable.layout(rows)
    }

    static func json(_ report: ConflictReport) -> JSONValue {
        .object([
            ("conflict", .bool(report.hasConflict)),
            ("hidden_processes", .int(report.hiddenProcesses)),
            (
                "ports",
                .array(
                    report.rows.map { row in
                        .object([
                            ("ports", .string(row.spec.range.description)), ("transport", .string(row.spec.transport.rawValue)),
                            ("needed_by", .array(row.labels.map { .string($0) })),
                            ("status", .string(row.verdict.rawValue)), ("conflict", .bool(row.isConflict)),
                            (
                                "holders",
                                .array(
                                    row.holders.map { holder in
                                        .object([
                                            ("address", .string(holder.socket.address)), ("port", .int(holder.socket.port)),
                                            ("uid", .int(holder.socket.uid)),
                                            ("pid", holder.owner.map { .int($0.pid) } ?? .null),
                                            ("executable", holder.owner?.executable.map { .string($0) } ?? .null),
                                            ("name", holder.owner.map { .string($0.name) } ?? .null),
                                            ("command_line", .array((holder.owner?.commandLine ?? []).map { .string($0) })),
                                            ("user", holder.owner?.uid.map { .int($0) } ?? .null),
                                            ("unit", holder.owner?.unit.map { .string($0) } ?? .null),
                                            ("kind", .string(holder.kind.description)),
                                        ])
                                    })
                            ),
                            (
                                "claims",
                                .array(
                                    row.claims.map { claim in
                                        .object([
                                            ("unit", .string(claim.unit)), ("server", .string(claim.server)), ("port", .int(claim.port)),
                                            ("origin", .string(claim.origin)),
                                        ])
                                    })
                            ),
                            ("advice", row.advice.map { .string($0) } ?? .null),
                        ])
                    })
            ),
        ])
    }
}
