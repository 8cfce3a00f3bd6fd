import FoundationEssentials
import PlanRendering
import PortModel
import PortPlanning

#if canImport(Glibc)
    import Glibc
#endif

extension Applier {
    // MARK: - Finishing a change

    /// Records what a committed journal did. On failure the kernel change is undone, and the error
    /// says so; when the undo fails too, `.stranded` says exactly what is live.
    func finalizeOrUndo(_ journal: StateStore.Journal, failureSubject: String, undoable: Bool = true) throws(ApplyFailure) {
        do throws(StateStore.StoreError) {
            try finalize(journal)
        } catch {
            guard undoable else {
                throw .stranded("\(failureSubject), but the state could not be saved: \(error); \(store.directory) may not show it")
            }
            do throws(ApplyFailure) {
                try undo(journal)
            } catch let undoError {
                throw .stranded(
                    "\(failureSubject), but the state could not be saved (\(error)), and undoing the change failed too (\(undoError)); generation \(journal.generation) is live; 'portctl remove --state-dir DIR' with a writable DIR takes portctl's rules out"
                )
            }
            abandon(journal)
            // When the event was recorded before the failure, say in the history that it was undone.
            if store.hasRecorded(id: journal.id) {
                try? store.record(
                    "undone", generation: journal.previous,
                    detail: "generation \(journal.generation) could not be recorded (\(error)); the commit was undone",
                    id: journal.id + "-undone")
            }
            throw .state("cannot save the state (\(error)), so the change was undone: nothing was changed")
        }
    }

    /// The state after a committed journal. The steps that may need free space come first (the
    /// generation's fingerprint, when it changed, and the history event, once), then the renames
    /// that make it current (the boot copy, `current`), which need none; a failure in any of these
    /// is thrown, for the caller to undo the commit. With `mustHappen` (a rollback that is never
    /// undone) a failed step does not stop the later ones: as much as can be recorded is, and the
    /// first failure is thrown at the end. Removing the pending record it settles and the journal
    /// comes last and is best effort: the state is already right, and a journal left over is
    /// settled again, harmlessly, by the next portctl. Every step may run twice.
    func finalize(_ journal: StateStore.Journal, note: String? = nil, recovering: Bool = false, mustHappen: Bool = false)
        throws(StateStore.StoreError)
    {
        var failure: StateStore.StoreError?
        func step(_ body: () throws(StateStore.StoreError) -> Void) throws(StateStore.StoreError) {
            do {
                try body()
            } catch {
                guard mustHappen else { throw error }
                if failure == nil { failure = error }
            }
        }
        if store.faults.shouldFail("apply.finalize") { throw .io("cannot write \(store.directory)/current: injected fault") }
        try step { () throws(StateStore.StoreError) in
            guard journal.generation > 0, var meta = store.meta(journal.generation), let placement = Placement(stateText: meta.placement)
            else { return }
            let original = meta
            // The mark after the commit, if that commit was the only one since the journal; never
            // from recovery, which cannot know whose the commits since were.
            let mark = kernelMark()
            if !recovering, let mark, let before = journal.beforeGeneration, Self.generation(ofMark: mark) == before &+ 1 {
                meta.kernelMark = mark
            } else {
                meta.kernelMark = nil
            }
            if journal.readBack ?? true, let (after, _) = try? readOwn([placement]) {
                // Another commit between the mark and the listing may have edited what was read:
                // then neither is kept, and drift is judged later from a fresh reading.
                if meta.kernelMark != nil, kernelMark() != meta.kernelMark {
                    meta.kernelMark = nil
                    meta.fingerprint = ""
                } else {
                    meta.fingerprint = Fingerprint.of(after, placement: placement)
                }
            }
            // A new generation's record is made durable with the rest of it below; one that
            // something already names (a restore's target, a recovered change) at once.
            let fresh = journal.operation == "apply" && !recovering
            if meta != original { try store.updateMeta(meta, durable: !fresh) }
        }
        // What the apply wrote without fsync before its commit, and the record just updated, on disk
        // (each file once) before anything names the generation.
        try step { () throws(StateStore.StoreError) in try store.makeDurable(generation: journal.generation) }
        store.faults.point("finalize.durable")
        try step { () throws(StateStore.StoreError) in
            if !store.hasRecorded(id: journal.id) {
                let detail = note.map { journal.detail + " (\($0))" } ?? journal.detail
                try store.record(journal.event, generation: journal.generation, detail: detail, token: journal.token, id: journal.id)
            }
        }
        store.faults.point("finalize.recorded")
        try step { () throws(StateStore.StoreError) in
            switch journal.persist {
            case "write": try store.installStagedPersisted()
            case "remove": try store.setPersisted(nil)
            default: break
            }
        }
        store.faults.point("finalize.persisted")
        if store.faults.shouldFail("finalize.install") { throw .io("cannot write \(store.directory)/current: injected fault") }
        try step { () throws(StateStore.StoreError) in try store.installCurrent(journal.generation) }
        if let failure { throw failure }
        // A restore that settles a pending change ends it (after its event is recorded, so a
        // waiting apply finds the outcome); an apply with --confirm starts it.
        if journal.operation == "restore", let token = journal.token, let pending = store.pending(), pending.token == token {
            try? store.setPending(nil)
            store.discardRollbackCurrent()
            store.discardConfirmedPersisted()
        }
        try? store.setJournal(nil)
    }

    /// A generation's record and declaration, when both can be read: what a rollback needs.
    func restorable(_ number: Int) -> (StateStore.Meta, [JSONValue])? {
        guard let meta = store.meta(number), Placement(stateText: meta.placement) != nil, let declaration = store.declaration(number) else {
            return nil
        }
        return (meta, declaration)
    }

    /// Puts back what was live before a committed journal, in the kernel only.
    func undo(_ journal: StateStore.Journal) throws(ApplyFailure) {
        let (_, live) = try readLive()
        let changed = Placement(stateText: journal.placement)
        let previousMeta = journal.previous > 0 ? store.meta(journal.previous) : nil
        let batch: JSONValue
        if let previousMeta, let placement = Placement(stateText: previousMeta.placement),
            let declaration = store.declaration(journal.previous)
        {
            batch = combined(removing: changed, applying: declaration, at: placement, live: live)
        } else if journal.previous == 0, let changed {
            batch = Transaction.remove(placement: changed, live: live)
        } else {
            throw .usage("generation \(journal.previous) cannot be read from \(store.directory)")
        }
        try commit(batch)
    }

    /// Takes out what a journal prepared and never committed (or committed and undid).
    func abandon(_ journal: StateStore.Journal) {
        if journal.operation == "apply" {
            if let token = journal.token, store.pending()?.token == token { try? store.setPending(nil) }
            if journal.token != nil {
                store.discardRollbackCurrent()
                store.discardConfirmedPersisted()
            }
            store.discardGeneration(journal.generation)
        }
        store.discardStagedPersisted()
        store.discardStagedCurrent()
        if store.journal()?.id == journal.id || store.journal() == nil { try? store.setJournal(nil) }
    }
}
