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

/// `portctl history`: generations and what happened to them.
struct HistoryCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "List what portctl applied, rolled back and removed.",
        discussion: "EXAMPLES:\n  portctl history\n  portctl history --json")

    @OptionGroup var state: StateDirectoryOption
    @Flag(help: "Print JSON.") var json = false

    func run(in context: CommandContext) throws {
        try state.check()
        let store = state.store
        let events = store.history()
        if json {
            context.out(
                JSONValue.object([
                    ("current", .int(store.current())),
                    (
                        "events",
                        .array(
                            events.map { event in
                                .object([
                                    ("time", .string(event.time)), ("event", .string(event.event)), ("generation", .int(event.generation)),
                                    ("detail", .string(event.detail)),
                                ])
                            })
                    ),
                ]).pretty)
            return
        }
        var rows = [["TIME", "EVENT", "GEN", "DETAIL"]]
        for event in events { rows.append([event.time, event.event, String(event.generation), event.detail]) }
        context.out(PlanTable.layout(rows))
        context.out("current generation: \(store.current())\n")
    }
}
