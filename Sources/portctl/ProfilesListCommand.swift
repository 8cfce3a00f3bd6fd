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

/// `portctl profiles list`.
struct ProfilesListCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List every profile portctl can see.",
        discussion: "EXAMPLES:\n  portctl profiles list\n  portctl profiles list --json")

    @OptionGroup var source: ProfileSourceOptions
    @Flag(help: "Print JSON.") var json = false

    func run(in context: CommandContext) throws {
        let catalog = try source.catalog(in: context)
        var rows = [["NAME", "TITLE", "FILE"]]
        var items: [JSONValue] = []
        for name in catalog.names {
            let all = catalog.candidates[name]!
            let winner = all[0]
            let title = winner.decode().profile?.title ?? "(invalid: run portctl profiles show \(name))"
            let file = winner.origin + (all.count > 1 ? " (overrides \(all.dropFirst().map(\.origin).joined(separator: ", ")))" : "")
            rows.append([name, title, file])
            items.append(
                .object([
                    ("name", .string(name)), ("title", .string(title)), ("file", .string(winner.origin)),
                    ("overrides", .array(all.dropFirst().map { .string($0.origin) })),
                ]))
        }
        context.out(json ? JSONValue.array(items).pretty : PlanTable.layout(rows))
    }
}
