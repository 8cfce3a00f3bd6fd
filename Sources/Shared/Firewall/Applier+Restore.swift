import FoundationEssentials
import PlanRendering
import PortModel
import PortPlanning

#if canImport(Glibc)
    import Glibc
#endif

extension Applier {
    // MARK: - Restore (rollback, auto-rollback, remove)

    /// Makes generation `target` live again; 0 takes portctl's objects out. The history event
    /// carries `token` when it settles a pending change.
    ///
    /// A restore that settles a pending change (it carries the change's `token`), and a `mandatory`
    /// one (the watchdog's), rolls back a change nobody confirmed: the kernel must go back whatever
    /// the state directory allows. If its journal cannot be written it goes ahead without one (the
    /// pending record already names the restore point, and redoing it is harmless), and if
    /// recording it fails afterwards it is never undone; the error then says the rules *were*
    /// rolled back.
    public func restore(to target: Int, event: String, detail: String = "", token: String? = nil, mandatory: Bool = false)
        throws(ApplyFailure)
    {
        let mandatory = mandatory || token != nil
        let current = store.current()
        let currentPlacement = current > 0 ? store.meta(current).flatMap { Placement(stateText: $0.placement) } : nil
        let (listing, live) = try readLive()
        let batch: JSONValue
        let placement: Placement
        var persist = "keep"
        if target == 0 {
            guard let found = currentPlacement ?? Self.unrecordedPlacements(live).first else { throw .usage("portctl has nothing applied") }
            placement = found
            batch = Transaction.remove(placement: placement, live: live)
            if store.isPersisted { persist = "remove" }
        } else {
            guard let (meta, declaration) = restorable(target), let targetPlacement = Placement(stateText: meta.placement)
            else { throw .usage("generation \(target) does not exist or cannot be read (see portctl history)") }
            placement = targetPlacement
            batch = combined(removing: currentPlacement, applying: declaration, at: placement, live: live)
            if store.isPersisted { persist = "write" }
        }
        let journal = StateStore.Journal(
            operation: "restore", generation: target, previous: current, event: event,
            detail: detail.isEmpty ? "from generation \(current)" : detail, token: token, placement: placement.description,
            before: Fingerprint.digest(listing, placements: [placement] + (currentPlacement.map { [$0] } ?? [])), persist: persist)
        try check(batch)
        var prepared = true
        do throws(StateStore.StoreError) {
            if persist == "write", let declaration = store.declaration(target) {
                try store.stagePersisted(Transaction.apply(declaration: declaration, placement: placement, live: LiveRuleset()))
            }
            try store.stageCurrent(target)
            try store.setJournal(journal)
        } catch {
            abandon(journal)
            guard mandatory else { throw .state("cannot save the state before changing the rules, so nothing was changed: \(error)") }
            prepared = false
        }
        store.faults.point("restore.journal-written")
        do throws(ApplyFailure) {
            try commit(batch)
        } catch {
            if prepared { abandon(journal) }
            throw error
        }
        store.faults.point("restore.committed")
        if mandatory {
            do throws(StateStore.StoreError) {
                try finalize(journal, mustHappen: true)
            } catch {
                throw .stranded("the rules were rolled back in the kernel, but the state could not record it: \(error)")
            }
        } else {
            try finalizeOrUndo(journal, failureSubject: "the rules were changed")
        }
        store.faults.point("restore.finalized")
    }

    /// portctl's objects that are live although the state records none: a table `inet portctl`,
    /// or an attached chain `portctl` (with its jump) in any table. Used by `remove` and `status`
    /// when the state directory is empty, lost, or another one.
    public static func unrecordedPlacements(_ live: LiveRuleset) -> [Placement] {
        var found: [Placement] = []
        if live.hasTable(family: "inet", name: RulesetBuilder.defaultTable) {
            found.append(.standalone(table: RulesetBuilder.defaultTable))
        }
        for chain in live.chains
        where chain.name == Placement.attachedChain && !(chain.family == "inet" && chain.table == RulesetBuilder.defaultTable) {
            let jumper = live.rules.first { rule in
                rule.family == chain.family && rule.table == chain.table
                    && rule.expr.contains { $0["jump"]?["target"]?.string == Placement.attachedChain }
            }
            found.append(.attach(family: chain.family, table: chain.table, chain: jumper?.chain ?? "input"))
        }
        return found
    }

    /// Removes portctl's objects that the state does not record (see `unrecordedPlacements`).
    /// Returns what was removed.
    public func removeUnrecorded() throws(ApplyFailure) -> [Placement] {
        let (_, live) = try readLive()
        let found = Self.unrecordedPlacements(live)
        guard !found.isEmpty else { return [] }
        for placement in found {
            try restoreNothing(at: placement)
        }
        return found
    }

    private func restoreNothing(at placement: Placement) throws(ApplyFailure) {
        let (listing, live) = try readLive()
        let batch = Transaction.remove(placement: placement, live: live)
        let journal = StateStore.Journal(
            operation: "restore", generation: 0, previous: store.current(), event: "remove",
            detail: "\(placement) was live with no record in \(store.directory)", token: nil, placement: placement.description,
            before: Fingerprint.digest(listing, placements: [placement]), persist: store.isPersisted ? "remove" : "keep")
        try check(batch)
        do throws(StateStore.StoreError) {
            try store.stageCurrent(0)
            try store.setJournal(journal)
        } catch {
            abandon(journal)
            throw .state("cannot save the state before changing the rules, so nothing was changed: \(error)")
        }
        do throws(ApplyFailure) {
            try commit(batch)
        } catch {
            abandon(journal)
            throw error
        }
        try finalizeOrUndo(journal, failureSubject: "the rules were removed", undoable: false)
    }
}
