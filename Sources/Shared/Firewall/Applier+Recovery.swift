import FoundationEssentials
import PlanRendering
import PortModel
import PortPlanning

#if canImport(Glibc)
    import Glibc
#endif

extension Applier {
    // MARK: - Recovery

    /// Settles what an interrupted portctl left, under the lock: a journal (finished if the kernel
    /// holds its commit, discarded if not), and a pending change whose timer is gone (rolled back
    /// if its deadline passed, given a new timer if not). Returns a line per thing it did.
    public func recover(respawnWatchdog: (StateStore.Pending) -> Int32? = { _ in nil }) -> [String] {
        var notes: [String] = []
        if store.hasJournal {
            if let journal = store.journal() {
                if let note = settle(journal) { notes.append(note) }
            } else {
                try? store.setJournal(nil)
                notes.append("removed an unreadable journal.json")
            }
        }
        if let pending = store.pending() {
            let boot = StateStore.bootID()
            if store.outcome(token: pending.token) != nil {
                try? store.setPending(nil)
                store.discardRollbackCurrent()
                store.discardConfirmedPersisted()
                notes.append("removed the settled pending record of generation \(pending.generation)")
            } else if let made = pending.bootID, let boot, made != boot {
                // The machine restarted: the kernel no longer holds the unconfirmed change (the boot
                // copy is written only on confirmation), so it is settled as rolled back.
                try? store.record(
                    "auto-rollback", generation: pending.restore,
                    detail: "the machine restarted before generation \(pending.generation) was confirmed; the change did not survive it",
                    token: pending.token)
                try? store.installCurrent(pending.restore)
                try? store.setPending(nil)
                store.discardConfirmedPersisted()
                notes.append(
                    "generation \(pending.generation) was awaiting confirmation when the machine restarted: it is gone, and recorded as rolled back"
                )
            } else if !Watchdog.isAlive(pending) {
                if pending.hasExpired() {
                    do throws(ApplyFailure) {
                        try pendingChanges.expire(
                            pending,
                            detail:
                                "generation \(pending.generation) was not confirmed in time; its rollback timer had stopped, so \(actor) rolled it back"
                        )
                        notes.append(
                            "generation \(pending.generation) was not confirmed in time and its rollback timer had stopped: rolled back")
                    } catch {
                        if case .stranded = error {
                            notes.append("generation \(pending.generation) was not confirmed in time: \(error)")
                            if store.outcome(token: pending.token) == nil {
                                try? store.record(
                                    "auto-rollback", generation: pending.restore, detail: error.description, token: pending.token)
                            }
                            try? store.setPending(nil)
                        } else {
                            // Left pending: the next portctl to take the lock tries again.
                            notes.append(
                                "generation \(pending.generation) was not confirmed in time, and rolling it back failed (it is tried again): \(error)"
                            )
                        }
                    }
                } else if let pid = respawnWatchdog(pending) {
                    var renewed = pending
                    renewed.watchdog = pid
                    try? store.setPending(renewed)
                    notes.append("the rollback timer of generation \(pending.generation) had stopped; started a new one")
                }
            }
        }
        return notes
    }

    /// Settles a journal an interrupted portctl left. What the kernel holds now decides, and only
    /// evidence of the commit finishes it: a journal from an earlier boot, or one whose objects are
    /// gone where it should have made them (a flushed ruleset), is discarded, never recorded.
    func settle(_ journal: StateStore.Journal) -> String? {
        // Partly finished already (its event recorded, or `current` moved): finish it.
        if store.hasRecorded(id: journal.id)
            || (journal.generation != journal.previous && store.current() == journal.generation && store.read("current") != nil)
        {
            return finishRecovered(journal)
        }
        if let made = journal.bootID, let boot = StateStore.bootID(), made != boot {
            abandon(journal)
            if journal.operation == "apply" {
                try? store.record(
                    "abandoned", generation: journal.generation, detail: "never recorded before the machine restarted",
                    token: journal.token, id: journal.id)
            }
            return "a \(journal.event) of generation \(journal.generation) was interrupted before the machine restarted; discarded it"
        }
        if journal.before.isEmpty, let handleBefore = journal.beforeHandle,
            case .standalone(let table)? = Placement(stateText: journal.placement)
        {
            // An apply that read no rules: its commit replaces the table, giving it a new handle.
            // Finished only on exact evidence: the same boot and namespace, exactly one commit since
            // the journal, and portctl's table replaced; anything else is discarded, as a change
            // whose objects are neither as before nor as intended.
            if let place = journal.beforePlace, kernelPlace() != place { return abandonInterrupted(journal, unchanged: false) }
            let now = backend.generation()
            if let before = journal.beforeGeneration, let now, now == before { return abandonInterrupted(journal, unchanged: true) }
            guard let handle = try? tableHandle(table) else { return nil }
            if handle == handleBefore { return abandonInterrupted(journal, unchanged: true) }
            let onlyOneCommit = journal.beforeGeneration.map { before in now == before &+ 1 } ?? true
            if handle != 0, journal.generation > 0, onlyOneCommit { return finishRecovered(journal) }
            return abandonInterrupted(journal, unchanged: false)
        }
        guard let (listing, _) = try? readLive() else { return nil }
        let placement = Placement(stateText: journal.placement)
        let placements =
            [placement].compactMap { $0 }
            + (journal.previous > 0 ? [store.meta(journal.previous).flatMap { Placement(stateText: $0.placement) }].compactMap { $0 } : [])
        let present = placement.map { !Fingerprint.owned(listing, placement: $0).isEmpty } ?? false
        let unchanged = Fingerprint.digest(listing, placements: placements) == journal.before
        // Committed: the objects changed, and are there (or, for a removal, gone).
        let committed = !unchanged && (journal.generation > 0 ? present : !present)
        if committed { return finishRecovered(journal) }
        return abandonInterrupted(journal, unchanged: unchanged)
    }

    /// Discards an interrupted journal whose commit did not happen (or left something else).
    func abandonInterrupted(_ journal: StateStore.Journal, unchanged: Bool) -> String {
        abandon(journal)
        if journal.operation == "apply" {
            try? store.record(
                "abandoned", generation: journal.generation, detail: unchanged ? "never committed" : "portctl's objects changed meanwhile",
                token: journal.token, id: journal.id)
        }
        return unchanged
            ? "generation \(journal.generation) was prepared by an interrupted portctl but never committed; discarded it"
            : "an interrupted \(journal.event) of generation \(journal.generation) left portctl's objects neither as before nor as intended (edited, or flushed?); discarded it: run portctl status"
    }

    func finishRecovered(_ journal: StateStore.Journal) -> String {
        do {
            try finalize(
                journal, note: "recorded by \(actor): the portctl that committed it was interrupted", recovering: true,
                mustHappen: journal.operation == "restore")
            return "recorded generation \(journal.generation) (\(journal.event)), which an interrupted portctl had committed"
        } catch {
            return "cannot record the interrupted \(journal.event) of generation \(journal.generation): \(error)"
        }
    }

    /// Whether generation `number`'s objects are what the kernel holds now (nil when that cannot
    /// be told): how an apply reports the fate of its change when no outcome could be recorded.
    public func isLive(generation number: Int) -> Bool? {
        guard let meta = store.meta(number), let placement = Placement(stateText: meta.placement), !meta.fingerprint.isEmpty,
            let (listing, _) = try? readLive()
        else { return nil }
        return Fingerprint.of(listing, placement: placement) == meta.fingerprint
    }
}
