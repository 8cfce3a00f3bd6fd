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

/// What `apply --confirm` does once its change is live: wait for the pending change to be settled
/// (at the prompt when there is a terminal, by `portctl confirm` or `rollback` from any shell, or
/// by the watchdog at the deadline), then print the outcome recorded under this change's own
/// token. If the watchdog has died, this process rolls back in its place.
struct ConfirmWait {
    let state: StateOptions
    let confirmation: Confirmation
    let generation: Int
    let context: CommandContext

    /// How long after the deadline the outcome may take before this gives up waiting for it.
    static let patience = 90.0

    func run() throws(CommandFailure) {
        let store = state.store
        let interactive = context.input.isTerminal
        var prompting = interactive
        if prompting {
            context.out("Keep this change? Type y and Enter to confirm, n to roll back now: ")
        }
        // Bounded: the deadline (at most an hour away) plus the patience, in steps of 50 ms or more.
        let steps = Int((confirmation.deadline - Date().timeIntervalSince1970 + Self.patience) / 0.05) + 100
        for _ in 0..<max(100, steps) {
            guard let pending = store.pending(), pending.token == confirmation.token else { return try finish() }
            let now = Date().timeIntervalSince1970
            if now >= confirmation.deadline + Self.patience {
                throw CommandFailure(
                    .checkFailed,
                    "generation \(generation) passed its deadline \(Int(Self.patience))s ago and is still pending, with no outcome recorded; it is \(liveness()); the rollback timer (pid \(pending.watchdog)) is \(Watchdog.isAlive(pending) ? "still running" : "gone"); run 'portctl status'"
                )
            }
            if now >= confirmation.deadline + 1, !Watchdog.isAlive(pending) {
                // The timer died: take its place. Recovery rolls back a pending change whose deadline
                // has passed and whose timer is gone.
                takeOver()
                // The state may be unable to record it (a read-only or full directory): the kernel says.
                if state.store.pending()?.token == confirmation.token, state.applier(in: context).isLive(generation: generation) == false {
                    throw CommandFailure(
                        .rolledBack,
                        "not confirmed in time: generation \(generation) was rolled back, but \(state.store.directory) could not record it")
                }
                usleep(50_000)
                continue
            }
            if prompting, now < confirmation.deadline {
                switch readAnswer(timeoutMilliseconds: 50) {
                case .none:
                    break
                case .endOfInput:
                    prompting = false
                case .line(let answer):
                    if ["y", "yes"].contains(answer) {
                        if try settle(confirming: true) { return try finish() }
                    } else if ["n", "no"].contains(answer) {
                        if try settle(confirming: false) { return try finish() }
                    } else {
                        context.out("Type y or n: ")
                    }
                }
            } else {
                if prompting {
                    prompting = false
                    context.out("\n")
                }
                usleep(50_000)
            }
        }
        try finish()
    }

    /// Confirms or declines at the prompt, under the lock; true when the change was settled.
    func settle(confirming: Bool) throws(CommandFailure) -> Bool {
        let lock = try state.lock(in: context)
        defer { lock.release() }
        let applier = state.applier(actor: "portctl apply", in: context)
        do throws(ApplyFailure) {
            let settled =
                confirming
                ? try applier.pendingChanges.confirm(token: confirmation.token, detail: "at the prompt")
                : try applier.pendingChanges.decline(token: confirmation.token, detail: "declined at the prompt")
            switch settled {
            case .confirmed(_, let note?):
                context.warning(note)
                return true
            case .confirmed, .declined: return true
            case .tooLate:
                // The watchdog rolls it back; the outcome it records is what is reported.
                context.out("too late: the deadline has passed\n")
                return false
            case .nothingPending: return true
            }
        } catch {
            throw error.commandFailure
        }
    }

    func takeOver() {
        guard let lock = try? state.lock(in: context) else { return }
        lock.release()
    }

    /// Whether the change is live in the kernel, in words.
    func liveness() -> String {
        switch state.applier(in: context).isLive(generation: generation) {
        case true?: return "still live"
        case false?: return "no longer live"
        case nil: return "of unknown state"
        }
    }

    /// The outcome, from the history event that carries this change's token, and nothing older.
    func finish() throws(CommandFailure) {
        guard let outcome = state.applier(in: context).pendingChanges.outcome(token: confirmation.token) else {
            // Nothing recorded (the state directory filled up, say): the kernel tells what happened.
            switch state.applier(in: context).isLive(generation: generation) {
            case false?:
                throw CommandFailure(
                    .rolledBack,
                    "not confirmed in time: generation \(generation) was rolled back, but \(state.store.directory) could not record it")
            case true?:
                throw CommandFailure(
                    .checkFailed,
                    "generation \(generation) is still live, but is no longer pending and no outcome is recorded for it; run 'portctl status'"
                )
            case nil:
                throw CommandFailure(
                    .checkFailed,
                    "generation \(generation) is no longer pending, but no outcome is recorded for it; run 'portctl status' to see what is live"
                )
            }
        }
        switch outcome {
        case .confirmed:
            context.out("confirmed generation \(generation)\n")
        case .expired:
            throw CommandFailure(.rolledBack, "not confirmed in time: generation \(generation) was rolled back")
        case .declined(let detail):
            throw CommandFailure(.rolledBack, "generation \(generation) was rolled back: \(detail)")
        case .removed:
            throw CommandFailure(.rolledBack, "generation \(generation) was taken out by portctl remove")
        case .rollbackFailed(let detail):
            throw CommandFailure(
                .checkFailed, "not confirmed in time, but rolling back generation \(generation) failed, so it is still live: \(detail)")
        }
    }

    enum Answer {
        case none
        case endOfInput
        case line(String)
    }

    func readAnswer(timeoutMilliseconds: Int32) -> Answer {
        guard context.input.isReady(within: timeoutMilliseconds) else { return .none }
        guard let line = context.input.readLine() else { return .endOfInput }
        return .line(line.trimmingSpaces().lowercased())
    }
}
