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

/// `portctl profiles check`.
struct ProfilesCheckCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate profile files; print file:line:column diagnostics.",
        discussion: """
            Exits 0 when every file is valid, 65 when any has an error (or a warning, with --strict), \
            66 when a file cannot be read.

            EXAMPLES:
              portctl profiles check /etc/portctl/profiles.d/*.yaml
              portctl profiles check --strict my-server.yaml
            """)

    @Argument(help: ArgumentHelp("Profile files to check.", valueName: "file")) var files: [String]
    @Flag(help: "Treat warnings as errors.") var strict = false
    @Flag(help: "Print JSON.") var json = false

    func run(in context: CommandContext) throws {
        var worst = ExitStatus.ok
        var reports: [JSONValue] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                let reason = FileManager.default.fileExists(atPath: file) ? "cannot be read" : "does not exist"
                if json {
                    reports.append(.object([("file", .string(file)), ("valid", .bool(false)), ("error", .string("\(file) \(reason)"))]))
                } else {
                    context.error("\(file) \(reason)")
                }
                worst = .noInput
                continue
            }
            let result = ProfileDecoder.decode(data: Array(data), file: file)
            let diagnostics = result.diagnostics.escalated(strict: strict)
            let valid = !diagnostics.hasErrors
            if !valid, worst == .ok { worst = .dataError }
            if json {
                reports.append(
                    .object([
                        ("file", .string(file)), ("valid", .bool(valid)),
                        ("profile", result.profile.map { .string($0.name) } ?? .null),
                        ("diagnostics", .array(diagnostics.map(DiagnosticJSON.render))),
                    ]))
            } else {
                diagnostics.forEach(context.diagnostic)
                if valid { context.out("\(file): ok (\(result.profile!.name), \(result.profile!.openings.count) openings)\n") }
            }
        }
        if json { context.out(JSONValue.array(reports).pretty) }
        if worst != .ok { throw ExitCode(worst.rawValue) }
    }
}
