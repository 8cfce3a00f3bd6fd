import ArgumentParser
import Foundation
import Shared

/// The hidden rollback timer behind `apply --confirm`.
///
/// `apply` starts it *before* it writes the pending record, and its standard input is a lifeline
/// (a pipe whose other end only `apply` holds). It waits for the pending record with its token;
/// if `apply` dies before writing one, the lifeline closes and it exits, because nothing was
/// committed. Once the record exists it owns the deadline: it runs in a session of its own, so
/// it outlives the apply and its terminal, and at the deadline it rolls back unless the change was
/// settled meanwhile.
struct WatchdogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_watchdog", abstract: "Internal: the rollback timer of apply --confirm.", shouldDisplay: false)

    @Option(name: .customLong("state-dir")) var stateDirectory: String
    @Option var token: String
    /// Seconds since 1970: a bound on the wait for the record, which carries the real deadline.
    @Option var deadline: Int

    func run() throws {
        Fault.point("watchdog.started")
        let store = StateStore(directory: stateDirectory)
        guard let pending = awaitRecord(store) else { return }
        Fault.point("watchdog.armed")

        // Until the deadline, leave as soon as the change is settled elsewhere.
        while Date().timeIntervalSince1970 < pending.deadline {
            guard store.pending()?.token == token else { return }
            let left = pending.deadline - Date().timeIntervalSince1970
            usleep(UInt32(max(1_000, min(left, 0.05) * 1_000_000)))
        }
        Fault.point("watchdog.deadline")

        // The lock: an apply or confirm in progress holds it briefly. Keep trying for 15 minutes;
        // if it is still held, the next portctl to take it rolls back (the deadline has passed).
        var lock: StateStore.Lock?
        for _ in 0..<15 {
            guard store.pending()?.token == token else { return }
            if let taken = try? store.lock(wait: 60) {
                lock = taken
                break
            }
        }
        guard let lock else {
            try? store.record("auto-rollback-failed", generation: pending.generation, detail: "the state lock was held for 15 minutes", token: token)
            throw ExitCode(ExitStatus.busy.rawValue)
        }
        defer { lock.release() }
        Fault.point("watchdog.locked")
        var applier = Applier(backend: StateOptions.backend(), store: store)
        applier.actor = "portctl _watchdog"
        // A journal an interrupted apply left (killed after its commit) is recorded first.
        _ = applier.recover()
        do throws(ApplyFailure) {
            try applier.expirePending(token: token)
        } catch {
            if case .stranded = error {
                // Rolled back, but not recorded (the state directory filled up meanwhile): try once more.
                try? store.record("auto-rollback", generation: pending.restore, detail: error.description, token: token)
            } else {
                try? store.record("auto-rollback-failed", generation: pending.generation, detail: error.description, token: token)
            }
            try? store.setPending(nil)
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
                    if let pending = store.pending(), pending.token == token { return pending }
                    return nil
                }
            }
        }
        return nil
    }
}
