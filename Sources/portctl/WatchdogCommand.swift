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

/// The hidden rollback timer behind `apply --confirm`.
///
/// `apply` starts it *before* it writes the pending record, and its standard input is a lifeline
/// (a pipe whose other end only `apply` holds). It waits for the pending record with its token;
/// if `apply` dies before writing one, the lifeline closes and it exits, because nothing was
/// committed. Once the record exists it owns the deadline: it runs in a session of its own, so
/// it outlives the apply and its terminal, and at the deadline it rolls back unless the change was
/// settled meanwhile.
struct WatchdogCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "_watchdog", abstract: "Internal: the rollback timer of apply --confirm.", shouldDisplay: false)

    @Option(name: .customLong("state-dir")) var stateDirectory: String
    @Option var token: String
    /// Seconds since 1970: a bound on the wait for the record, which carries the real deadline.
    @Option var deadline: Int
    /// The fault plan apply was given (portctl(8), TESTING HOOKS).
    @Option(name: .customLong("fault")) var fault = ""
    @Option(name: .customLong("fault-once")) var faultOnce: String?

    func run(in context: CommandContext) throws {
        let store = StateStore(directory: stateDirectory, faults: FaultPlan(fault, oncePath: faultOnce))
        let faults = store.faults
        faults.point("watchdog.started")
        guard let pending = awaitRecord(store) else { return }
        faults.point("watchdog.armed")

        // Until the deadline, leave as soon as the change is settled elsewhere. The deadline is the
        // wall clock's or, in the same boot, CLOCK_BOOTTIME's, whichever comes first: a clock step
        // backwards does not keep an unconfirmed change alive.
        let boot = StateStore.bootID()
        let bootDeadline = pending.bootID == boot ? pending.bootDeadline : nil
        while !pending.hasExpired(boot: boot) {
            // Only a record that is gone, or another change's, ends the wait: a failed read does not.
            switch store.pendingState() {
            case .absent: return
            case .present(let now) where now.token != token: return
            default: break
            }
            let left = min(pending.deadline - Date().timeIntervalSince1970, (bootDeadline ?? .infinity) - StateStore.boottime())
            usleep(UInt32(max(1_000, min(left, 0.05) * 1_000_000)))
        }
        faults.point("watchdog.deadline")

        // The lock: an apply or confirm in progress holds it briefly. Keep trying for 15 minutes;
        // if it is still held, leave the change pending: the next portctl to take the lock rolls it
        // back (its deadline has passed). A state directory whose lock cannot even be opened
        // (gone, unreadable) cannot be changed by anyone else either: roll back without it.
        var lock: StateStore.Lock?
        var unlockable = false
        for _ in 0..<15 {
            if case .absent = store.pendingState() { return }
            do {
                lock = try store.lock(wait: 60)
                break
            } catch {
                if case .io = error {
                    unlockable = true
                    break
                }
            }
        }
        guard lock != nil || unlockable else { throw ExitCode(ExitStatus.busy.rawValue) }
        defer { lock?.release() }
        faults.point("watchdog.locked")
        var applier = Applier(backend: context.backend(), store: store)
        applier.actor = "portctl _watchdog"
        // A journal an interrupted apply left (killed after its commit) is recorded first.
        _ = applier.recover()
        do throws(ApplyFailure) {
            try applier.pendingChanges.expire(token: token)
        } catch {
            if case .stranded = error {
                // Rolled back, but not all of it recorded (the state directory is full or read-only).
                if store.outcome(token: token) == nil {
                    try? store.record("auto-rollback", generation: pending.restore, detail: error.description, token: token)
                }
                try? store.setPending(nil)
            } else {
                // Even taking portctl's objects out failed: that is final, and said so.
                try? store.record("auto-rollback-failed", generation: pending.generation, detail: error.description, token: token)
                try? store.setPending(nil)
            }
            throw ExitCode(ExitStatus.checkFailed.rawValue)
        }
    }

    /// Waits for the pending record with this token, while the apply that started this is alive.
    func awaitRecord(_ store: StateStore) -> StateStore.Pending? {
        let bound = Double(deadline) + 600
        var buffer = [UInt8](repeating: 0, count: 16)
        while Date().timeIntervalSince1970 < bound {
            if let pending = store.pending(), pending.token == token { return pending }
            var lifeline = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
            if poll(&lifeline, 1, 20) > 0 {
                // End of file (or an error): the apply is gone. What it wrote before dying decides.
                if lifeline.revents & Int16(POLLHUP | POLLERR | POLLNVAL) != 0 || read(0, &buffer, buffer.count) <= 0 {
                    // One more read, retried: a failed read is not "no record".
                    for _ in 0..<20 {
                        switch store.pendingState() {
                        case .present(let pending) where pending.token == token: return pending
                        case .unreadable: usleep(50_000)
                        default: return nil
                        }
                    }
                    return nil
                }
            }
        }
        return nil
    }
}
