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

/// `portctl rollback`: go back to the previous generation, or to a given one.
struct RollbackCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Restore the previous generation, or generation N with --to.",
        discussion: """
            Without --to, restores what was live before the current generation (nothing, if it was \
            the first). While 'apply --confirm' waits, rollback declines the change at once.

            EXAMPLES:
              portctl rollback
              portctl rollback --to 3
            """)

    @OptionGroup var state: StateOptions
    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("The generation to restore (see portctl history); 0 takes portctl's rules out.", valueName: "n"))
    var to: String?

    var target: Int? {
        get throws(CommandFailure) {
            guard let to else { return nil }
            guard let value = Int(to), value >= 0 else {
                throw CommandFailure.flag("--to", "'\(Shown.value(to))' is not a generation number (0 or more; see portctl history)")
            }
            return value
        }
    }

    func run(in context: CommandContext) throws {
        try state.check()
        let requested = try target
        let lock = try state.lock(in: context)
        defer { lock.release() }
        let store = state.store
        let applier = state.applier(actor: "portctl rollback", in: context)
        do throws(ApplyFailure) {
            if let pending = store.pending(), requested == nil {
                _ = try applier.pendingChanges.decline(token: pending.token, detail: "declined by portctl rollback")
                context.out("rolled back generation \(pending.generation)\n")
                return
            }
        } catch {
            throw error.commandFailure
        }
        if let requested, let pending = store.pending(), requested == pending.generation {
            throw CommandFailure.flag(
                "--to",
                "generation \(requested) is the change awaiting confirmation; keep it with 'portctl confirm', or decline it with 'portctl rollback'"
            )
        }
        let current = store.current()
        let target = requested ?? (current > 0 ? store.meta(current)?.previous ?? 0 : -1)
        guard target >= 0 else { throw CommandFailure(.checkFailed, "nothing to roll back: portctl has nothing applied") }
        if target == current, store.pending() == nil {
            context.out("generation \(target) is already live\n")
            return
        }
        // Going to another generation while a change waits settles that change too.
        let pending = store.pending()
        do throws(ApplyFailure) {
            try applier.restore(
                to: target, event: "rollback",
                detail: pending.map { "to generation \(target), declining generation \($0.generation)" } ?? "",
                token: pending?.token)
            if let pending { applier.pendingChanges.stopWatchdog(pending) }
            context.out(target == 0 ? "rolled back: portctl's rules are removed\n" : "rolled back to generation \(target)\n")
        } catch {
            throw error.commandFailure
        }
    }
}
