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

/// `portctl confirm`: keep a change applied with --confirm.
struct ConfirmCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm",
        abstract: "Keep the change that 'apply --confirm' is waiting on.",
        discussion: """
            Works from any shell, until the deadline. Exits 1 when nothing awaits confirmation, or when \
            the deadline has passed (the change is then being rolled back).

            EXAMPLE:
              portctl confirm
            """)

    @OptionGroup var state: StateOptions

    func run(in context: CommandContext) throws {
        let lock = try state.lock(in: context)
        defer { lock.release() }
        state.faults.point("confirm.locked")
        let settled: PendingChanges.Settled
        do throws(ApplyFailure) {
            settled = try state.applier(actor: "portctl confirm", in: context).pendingChanges.confirm(detail: "portctl confirm")
        } catch {
            throw error.commandFailure
        }
        switch settled {
        case .confirmed(let generation, let note):
            context.out("confirmed generation \(generation)\n")
            if let note { context.warning(note) }
        case .tooLate(let generation):
            throw CommandFailure(.checkFailed, "too late: generation \(generation) passed its deadline and is being rolled back")
        case .nothingPending, .declined: throw CommandFailure(.checkFailed, "nothing awaits confirmation")
        }
    }
}
