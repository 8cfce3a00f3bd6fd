import FoundationEssentials
import PlanRendering
import PortModel

#if canImport(Glibc)
    import Glibc
#endif

/// The confirm-or-rollback protocol of `apply --confirm`, written once: confirming, declining and
/// expiring a pending change, and what became of one, by its token. Every command that settles a
/// pending change (confirm, rollback, remove, the prompt of apply, the watchdog, recovery) goes
/// through here, under the state lock.
public struct PendingChanges: Sendable {
    public let applier: Applier
    var store: StateStore { applier.store }

    public init(applier: Applier) {
        self.applier = applier
    }

    /// The change awaiting confirmation, if any.
    public var current: StateStore.Pending? { store.pending() }

    /// How a pending change ended, as its token's history event says.
    public enum Outcome: Sendable, Equatable {
        case confirmed
        /// Not confirmed in time: the watchdog, or recovery, rolled it back.
        case expired(detail: String)
        /// Declined: at the prompt, by `portctl rollback`.
        case declined(detail: String)
        case removed
        /// The rollback failed, so the change is still live.
        case rollbackFailed(detail: String)
    }

    /// The outcome recorded under `token`, never an older change's.
    public func outcome(token: String) -> Outcome? {
        guard let event = store.outcome(token: token) else { return nil }
        switch event.event {
        case "confirm": return .confirmed
        case "auto-rollback": return .expired(detail: event.detail)
        case "rollback": return .declined(detail: event.detail)
        case "remove": return .removed
        default: return .rollbackFailed(detail: event.detail)
        }
    }

    /// What became of a pending change.
    public enum Settled: Sendable, Equatable {
        /// With a note when something after the recorded confirmation failed.
        case confirmed(generation: Int, note: String?)
        case declined(generation: Int)
        case tooLate(generation: Int)
        case nothingPending
    }

    /// Keeps the pending change (`token` nil: whichever is pending). Under the lock. The
    /// confirmation is recorded first, so a waiting apply finds it, then the boot copy staged at
    /// apply time is installed (a rename), and the pending record goes. `note` says what of the
    /// after-steps failed: the confirmation itself stands once it is recorded.
    public func confirm(
        token: String? = nil, detail: String, now: Double = Date().timeIntervalSince1970, boottime: Double = StateStore.boottime()
    ) throws(ApplyFailure) -> Settled {
        guard let pending = store.pending(), token == nil || pending.token == token, store.outcome(token: pending.token) == nil else {
            return .nothingPending
        }
        guard !pending.hasExpired(now: now, boottime: boottime) else { return .tooLate(generation: pending.generation) }
        do throws(StateStore.StoreError) {
            try store.record("confirm", generation: pending.generation, detail: detail, token: pending.token)
        } catch {
            throw .state("cannot record the confirmation (\(error)); generation \(pending.generation) still rolls back at its deadline")
        }
        store.faults.point("confirm.recorded")
        var problems: [String] = []
        do throws(StateStore.StoreError) {
            if try !store.installConfirmedPersisted(), let meta = store.meta(pending.generation), meta.persist,
                let placement = Placement(stateText: meta.placement), let declaration = store.declaration(pending.generation)
            {
                try store.setPersisted(Transaction.apply(declaration: declaration, placement: placement, live: LiveRuleset()))
            }
        } catch {
            problems.append("the boot copy could not be updated: \(error)")
        }
        do throws(StateStore.StoreError) { try store.setPending(nil) } catch {
            problems.append("pending.json could not be removed (the next portctl removes it): \(error)")
        }
        store.discardRollbackCurrent()
        stopWatchdog(pending)
        return .confirmed(generation: pending.generation, note: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }

    /// Rolls back the pending change now. Under the lock.
    public func decline(token: String? = nil, detail: String) throws(ApplyFailure) -> Settled {
        guard let pending = store.pending(), token == nil || pending.token == token, store.outcome(token: pending.token) == nil else {
            return .nothingPending
        }
        try applier.restore(to: pending.restore, event: "rollback", detail: detail, token: pending.token)
        stopWatchdog(pending)
        return .declined(generation: pending.generation)
    }

    /// The watchdog's work at the deadline: roll back unless confirmed meanwhile. Under the lock
    /// (or, when the state directory cannot even be locked, without it: nothing else can change it).
    public func expire(token: String) throws(ApplyFailure) {
        guard let pending = store.pending(), pending.token == token, store.outcome(token: token) == nil else { return }
        try expire(pending, detail: "generation \(pending.generation) was not confirmed in time")
    }

    /// Rolls back an expired change whatever it takes: to the generation before it; if that cannot
    /// be read, or the kernel refuses it three times, by taking portctl's objects out, which
    /// can only open the firewall, never close it further. Throws only when even that fails.
    func expire(_ pending: StateStore.Pending, detail: String) throws(ApplyFailure) {
        var lastError: ApplyFailure?
        if pending.restore == 0 || applier.restorable(pending.restore) != nil {
            for attempt in 0..<3 {
                do throws(ApplyFailure) {
                    try applier.restore(to: pending.restore, event: "auto-rollback", detail: detail, token: pending.token, mandatory: true)
                    return
                } catch {
                    if case .stranded = error { throw error }
                    lastError = error
                    if attempt < 2 { usleep(500_000) }
                }
            }
        }
        guard pending.restore != 0 else { throw lastError ?? .usage("nothing to roll back") }
        let why =
            lastError.map { "rolling back to generation \(pending.restore) failed (\($0))" }
            ?? "generation \(pending.restore) cannot be read"
        try applier.restore(
            to: 0, event: "auto-rollback", detail: "\(detail); \(why), so portctl's rules were taken out instead", token: pending.token,
            mandatory: true)
    }

    public func stopWatchdog(_ pending: StateStore.Pending) {
        if pending.watchdog > 0, pending.watchdog != getpid(), Watchdog.isAlive(pending) { kill(pending.watchdog, SIGTERM) }
    }
}

extension Applier {
    /// The pending-change protocol on this applier's state.
    public var pendingChanges: PendingChanges { PendingChanges(applier: self) }
}
