import FoundationEssentials
import PlanRendering
import PortModel
import PortPlanning

#if canImport(Glibc)
    import Glibc
#endif

/// Applies plans to the kernel through a backend, keeping generations in a state store.
///
/// Every change is one libnftables transaction. The order is what makes it safe:
///
/// 1. build the batch, reading only the rules it touches (none for a standalone table over itself);
/// 2. *prepare*: write everything the change needs (the new generation, the staged boot copy and
///    `current`), then write and fsync what a rollback and recovery need: with `--confirm` the
///    staged restore point, the journal naming what to record once committed, and last the pending
///    record that the already running watchdog waits for. If any of it cannot be written, stop:
///    nothing has changed;
/// 3. *commit* the batch: the kernel takes all of it or none;
/// 4. *finalize*: make the new generation durable (its fsyncs come after the commit, so that the
///    kernel has the new rules sooner), record what the kernel now holds (`current`, the history
///    event) and remove the journal. If that fails, the commit
///    is undone with the previous generation and the failure says nothing changed; a process
///    killed between 3 and 4 leaves the journal, which the next portctl to take the lock settles
///    (`recover`). A crash of the machine before 4 takes the commit with it (the kernel keeps no
///    ruleset over a restart), and the journal, on disk before the commit, has the generation
///    discarded.
public struct Applier: Sendable {
    public let backend: any NftablesBackend
    public let store: StateStore
    /// Who is acting, for history details written by recovery ("portctl apply", "portctl _watchdog").
    public var actor = "portctl"

    /// Part of every plan digest: raise it when a release changes how a plan becomes a batch
    /// (NftJSONRenderer, Transaction) without changing its nft text, so that a re-apply after the
    /// upgrade commits the new batch instead of saying "no change".
    static let renderingVersion = "portctl-batch-1\n"

    public init(backend: any NftablesBackend, store: StateStore) {
        self.backend = backend
        self.store = store
    }

    // MARK: - Apply

    public func apply(_ plan: Plan, options: ApplyOptions) throws(ApplyFailure) -> ApplyOutcome {
        let ruleset = RulesetBuilder.build(plan, placement: options.placement)
        // The nft text says everything the JSON declaration says (both are rendered from `ruleset`),
        // and costs less to make: its digest tells "same plan", and the JSON is built only for a change.
        let text = rulesetText(ruleset, placement: options.placement)
        let declarationDigest = JSONValue.digest(ofText: Self.renderingVersion + text)
        if case .standalone = options.placement { try checkSession(options.session, plan: plan) }
        let current = store.current()
        let currentMeta = current > 0 ? store.meta(current) : nil
        let currentPlacement = currentMeta.flatMap { Placement(stateText: $0.placement) }
        let markBefore = kernelMark()
        let samePlan =
            currentMeta.map { meta in
                meta.placement == options.placement.description && meta.declarationDigest == declarationDigest
                    && (options.persist == store.isPersisted || !options.persist)
            } ?? false
        // A no-op reads no rule and writes nothing: the kernel's generation has not moved since
        // this generation's own commit, so nothing anywhere has changed.
        if !options.dryRun, samePlan, let markBefore, currentMeta?.kernelMark == markBefore {
            return .noChange(generation: current)
        }

        // The rules this change touches are read only where they are needed: the tables of an
        // attached placement, of an earlier different placement, or (to tell a no-op after another
        // program's commit) portctl's own. A standalone apply over itself reads none.
        let moved = currentPlacement.map { $0 != options.placement } ?? false
        let compareFingerprint = samePlan && !(currentMeta?.fingerprint.isEmpty ?? true)
        var listing = JSONValue.object([("nftables", .array([]))])
        var live = LiveRuleset()
        var listed = false
        // The same plan after another program's commit: portctl's table is read only when it is
        // there to compare; when it is gone (deleted, or the ruleset flushed), its handle says so.
        var tableAbsent = false
        if compareFingerprint, !(options.placement.isAttached || moved || options.dryRun) {
            tableAbsent = try tableHandle(options.placement.table) == 0
        }
        if options.placement.isAttached || moved || (compareFingerprint && !tableAbsent) || options.dryRun {
            (listing, live) = try readOwn([options.placement] + (currentPlacement.map { [$0] } ?? []))
            try checkPlacement(options.placement, live: live)
            listed = true
        }
        let declaration = NftJSONRenderer.declaration(ruleset)
        let batch = combined(removing: currentPlacement, applying: declaration, at: options.placement, live: live)
        let diff = LineDiff.unified(old: current > 0 ? store.rulesetText(current) ?? "" : "", new: text)

        if options.dryRun {
            try check(batch)
            // Would a real apply change the ruleset? Not when it is the same plan and the kernel
            // still holds exactly what this generation committed (the same rule as below).
            let unchanged =
                samePlan
                && ((markBefore != nil && currentMeta?.kernelMark == markBefore)
                    || (compareFingerprint && !Fingerprint.owned(listing, placement: options.placement).isEmpty
                        && Fingerprint.of(listing, placement: options.placement) == currentMeta?.fingerprint))
            return .dryRun(diff: diff, changes: !unchanged)
        }
        // After another program's commit, compare portctl's objects with what this generation
        // committed. portctl's objects must be there: an empty fingerprint never matches (a flushed
        // ruleset is no "no change").
        if compareFingerprint, let currentMeta, !Fingerprint.owned(listing, placement: options.placement).isEmpty,
            Fingerprint.of(listing, placement: options.placement) == currentMeta.fingerprint
        {
            // Remember the kernel's new generation, so the next re-apply needs no rules either.
            if let markBefore {
                var meta = currentMeta
                meta.kernelMark = markBefore
                try? store.updateMeta(meta)
            }
            return .noChange(generation: current)
        }
        // A rollback timer needs something to roll back to: the live generation must be readable.
        if options.confirmation != nil, current > 0, restorable(current) == nil {
            throw .state(
                "generation \(current), which a rollback would restore, cannot be read from \(store.directory), so nothing was changed")
        }
        // No separate dry run: the commit is one transaction, and a batch the kernel refuses changes
        // nothing (DESIGN.md, decision 4). What the journal needs to tell later whether the commit
        // happened: the objects before, when they were read; else the table's handle.
        var handleBefore: Int?
        if !listed { handleBefore = tableAbsent ? 0 : try tableHandle(options.placement.table) }
        let elements = ruleset.sets.reduce(0) { $0 + $1.elements.count }

        // 2. Prepare.
        let number = store.nextGeneration()
        let persist = options.persist || store.isPersisted
        let meta = StateStore.Meta(
            generation: number, time: StateStore.timestamp(), placement: options.placement.description,
            profiles: plan.profiles.map(\.name), options: plan.options, command: options.command, forced: options.forced,
            persist: persist, previous: current, fingerprint: "", declarationDigest: declarationDigest,
            // What the mark will be if this commit is the kernel's next: finalize checks it.
            kernelMark: markBefore.flatMap { mark in Self.generation(ofMark: mark).map { Self.mark(mark, atGeneration: $0 &+ 1) } })
        // With --confirm the boot copy follows the change only once it is confirmed: a reboot in the
        // confirmation window must not bring back a change nobody confirmed.
        let stagePersist = persist && options.confirmation == nil
        var journal = StateStore.Journal(
            operation: "apply", generation: number, previous: current, event: "apply",
            detail: options.forced ? "forced: \(options.command.joined(separator: " "))" : options.command.joined(separator: " "),
            token: options.confirmation?.token, placement: options.placement.description,
            before: listed ? Fingerprint.digest(listing, placements: [options.placement] + (currentPlacement.map { [$0] } ?? [])) : "",
            persist: stagePersist ? "write" : "keep")
        journal.beforePlace = kernelPlace()
        if !listed {
            journal.beforeHandle = handleBefore
        }
        journal.readBack = elements <= Self.readBackLimit
        do throws(StateStore.StoreError) {
            let replaced = listed ? JSONValue.array(Fingerprint.owned(listing, placement: options.placement)).pretty : nil
            // Written, not yet fsynced: only the journal and the pending record must be on disk
            // before the commit (DESIGN.md, decision 4); finalize makes these durable.
            _ = try store.addGeneration(
                meta: meta, declaration: declaration, rulesetText: text, planJSON: PlanJSON.render(plan).pretty, replaced: replaced,
                durable: false)
            store.faults.point("apply.generation-written")
            let boot =
                stagePersist || (options.confirmation != nil && persist)
                ? Transaction.apply(declaration: declaration, placement: options.placement, live: LiveRuleset()) : .null
            if stagePersist { try store.stagePersisted(boot, durable: false) }
            try store.stageCurrent(number, durable: false)
            if options.confirmation != nil {
                // What the rollback and the confirmation will install, staged now, so that neither
                // needs free space later: `current` for a rollback, the boot copy for a confirmation.
                try store.stageRollbackCurrent(current)
                if persist { try store.stageConfirmedPersisted(boot) }
            }
            // The kernel's generation as late as possible before the commit, so that recovery can
            // tell "exactly one commit since, which replaced portctl's table" from anything else.
            journal.beforeGeneration = backend.generation()
            try store.setJournal(journal)
            store.faults.point("apply.journal-written")
            // Last before the commit: the record the waiting watchdog takes the deadline from. If
            // this process dies from here on, the watchdog owns the change; before here, the
            // lifeline tells it that nothing was committed, and recovery discards the journal.
            if let confirmation = options.confirmation {
                let left = max(0, confirmation.deadline - Date().timeIntervalSince1970)
                try store.setPending(
                    StateStore.Pending(
                        generation: number, restore: current, deadline: confirmation.deadline, token: confirmation.token,
                        watchdog: confirmation.watchdog,
                        bootID: StateStore.bootID(), bootDeadline: StateStore.boottime() + left))
            }
        } catch {
            abandon(journal)
            throw .state("cannot save the state before applying, so nothing was changed: \(error)")
        }
        store.faults.point("apply.pending-written")

        // 3. Commit.
        do throws(ApplyFailure) {
            try commit(batch)
        } catch {
            abandon(journal)
            throw error
        }
        store.faults.point("apply.committed")

        // 4. Finalize.
        try finalizeOrUndo(journal, failureSubject: "the rules were applied")
        store.faults.point("apply.finalized")
        return .applied(generation: number, previous: current, diff: diff)
    }
}
