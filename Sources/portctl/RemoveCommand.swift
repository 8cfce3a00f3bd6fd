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

/// `portctl remove`: take out portctl's table (or its attached chain, sets and jump), nothing else.
struct RemoveCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove portctl's rules: its table, or its attached chain, sets and jump.",
        discussion: """
            Nothing else in the ruleset is touched. The history keeps the removed generation. portctl's \
            objects are found in the kernel too, so they are removed even when the state directory \
            has no record of them (lost, or another --state-dir).

            EXAMPLE:
              portctl remove
            """)

    @OptionGroup var state: StateOptions

    func run(in context: CommandContext) throws {
        let lock = try state.lock(in: context)
        defer { lock.release() }
        let store = state.store
        let applier = state.applier(actor: "portctl remove", in: context)
        do throws(ApplyFailure) {
            if store.current() > 0 {
                let pending = store.pending()
                try applier.restore(
                    to: 0, event: "remove", detail: pending.map { "declining generation \($0.generation)" } ?? "", token: pending?.token)
                if let pending { applier.pendingChanges.stopWatchdog(pending) }
                context.out("removed portctl's rules\n")
                return
            }
            let removed = try applier.removeUnrecorded()
            if !removed.isEmpty {
                context.out(
                    "removed portctl's rules (\(removed.map(\.description).joined(separator: ", ")), live with no record in \(store.directory))\n"
                )
                return
            }
        } catch {
            throw error.commandFailure
        }
        if store.isPersisted {
            do {
                try store.setPersisted(nil)
            } catch {
                throw CommandFailure(.cannotCreate, "nothing applied, but the stale boot copy cannot be removed: \(error)")
            }
            context.out("nothing applied; removed the stale boot copy (persist.json)\n")
        } else {
            context.out("nothing to remove: portctl has nothing applied\n")
        }
    }
}
