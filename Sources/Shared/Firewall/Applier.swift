import Foundation

#if canImport(Glibc)
import Glibc
import PortModel
import PortPlanning
import PlanRendering
#endif

/// How an apply should behave.
public struct ApplyOptions: Sendable {
    public var placement: Placement
    public var dryRun: Bool
    public var persist: Bool
    /// Set when the admin overrode a refusal (`--force`); recorded in the history.
    public var forced: Bool
    public var command: [String]
    /// The SSH session portctl runs in, if any: an apply must not cut it off.
    public var session: SSHSession?
    /// Skip the separate libnftables dry run. The commit is still one atomic transaction, so a
    /// refused batch still changes nothing; only the early, side-effect-free rehearsal is skipped.
    public var skipCheck: Bool
    /// `--confirm`: the pending record written (with the journal, before the commit) for the
    /// watchdog that is already running and waiting for it.
    public var confirmation: Confirmation?

    public init(
        placement: Placement, dryRun: Bool = false, persist: Bool = false, forced: Bool = false, command: [String] = [],
        session: SSHSession? = nil, skipCheck: Bool = false, confirmation: Confirmation? = nil
    ) {
        self.skipCheck = skipCheck
        self.placement = placement
        self.dryRun = dryRun
        self.persist = persist
        self.forced = forced
        self.command = command
        self.session = session
        self.confirmation = confirmation
    }
}

/// The rollback timer of an `apply --confirm`: its token, deadline and process.
public struct Confirmation: Sendable, Hashable {
    public let token: String
    /// Seconds since 1970.
    public let deadline: Double
    public let watchdog: Int32

    public init(token: String, deadline: Double, watchdog: Int32) {
        self.token = token
        self.deadline = deadline
        self.watchdog = watchdog
    }
}

/// What an apply did.
public enum ApplyOutcome: Sendable {
    /// `--dry-run`: checked by the kernel, not committed.
    case dryRun(diff: [String])
    /// The live rules already match the plan; nothing was written.
    case noChange(generation: Int)
    case applied(generation: Int, previous: Int, diff: [String])
}

/// Why an apply, rollback or remove did not happen. In every case but `.stranded` the live
/// ruleset is as it was before.
public enum ApplyFailure: Error, Sendable, CustomStringConvertible {
    case permission(String)
    /// libnftables or the kernel refused the batch; `offending` is the first command that fails.
    case rejected(message: String, offending: String?)
    case lockout(String)
    /// The state could not be written; nothing changed.
    case state(String)
    case usage(String)
    case busy(String)
    /// The kernel holds a change whose state could not be saved, and undoing it failed too.
    case stranded(String)

    public var description: String {
        switch self {
        case .permission(let message): return message
        case .rejected(let message, let offending):
            return "the kernel rejected the change, and nothing was changed: \(message)" + (offending.map { "\nfirst failing command: \($0)" } ?? "")
        case .lockout(let message), .state(let message), .usage(let message), .busy(let message), .stranded(let message): return message
        }
    }
}

/// Applies plans to the kernel through a backend, keeping generations in a state store.
///
/// Every change is one libnftables transaction. The order is what makes it safe:
///
/// 1. read the live ruleset and build the batch (checked in dry-run mode unless asked not to);
/// 2. *prepare*: write and fsync everything the change needs (the new generation, the staged boot
///    copy, the journal naming what to record once committed, and last the pending record of
///    `--confirm` that the already running watchdog waits for). If any of it cannot be written,
///    stop: nothing has changed;
/// 3. *commit* the batch: the kernel takes all of it or none;
/// 4. *finalize*: record what the kernel now holds (`current`, the history event) and remove the
///    journal. If that fails, the commit is undone with the previous generation and the failure
///    says nothing changed; a process killed between 3 and 4 leaves the journal, which the next
///    portctl to take the lock settles (`recover`).
public struct Applier: Sendable {
    public let backend: any NftablesBackend
    public let store: StateStore
    /// Who is acting, for history details written by recovery ("portctl apply", "portctl _watchdog").
    public var actor = "portctl"

    public init(backend: any NftablesBackend, store: StateStore) {
        self.backend = backend
        self.store = store
    }

    // MARK: - Apply

    public func apply(_ plan: Plan, options: ApplyOptions) throws(ApplyFailure) -> ApplyOutcome {
        let ruleset = RulesetBuilder.build(plan, placement: options.placement)
        let declaration = NftJSONRenderer.declaration(ruleset)
        let (listing, live) = try readLive()
        try checkPlacement(options.placement, live: live)
        if case .standalone = options.placement { try checkSession(options.session, plan: plan) }

        let current = store.current()
        let currentMeta = current > 0 ? store.meta(current) : nil
        let currentPlacement = currentMeta.flatMap { Placement(stateText: $0.placement) }
        let batch = combined(removing: currentPlacement, applying: declaration, at: options.placement, live: live)
        let text = rulesetText(ruleset, placement: options.placement)
        let diff = LineDiff.unified(old: current > 0 ? store.rulesetText(current) ?? "" : "", new: text)

        if options.dryRun {
            try check(batch)
            return .dryRun(diff: diff)
        }
        // Before the dry run: a no-op must not pay for a kernel rehearsal. portctl's objects must be
        // there: an empty fingerprint never matches (a flushed ruleset is no "no change").
        if let currentMeta, currentMeta.placement == options.placement.description,
            currentMeta.declarationDigest == JSONValue.array(declaration).digest,
            !Fingerprint.owned(listing, placement: options.placement).isEmpty,
            Fingerprint.of(listing, placement: options.placement) == currentMeta.fingerprint,
            options.persist == store.isPersisted || !options.persist
        {
            return .noChange(generation: current)
        }
        if !options.skipCheck { try check(batch) }
        // A rollback timer needs something to roll back to: the live generation must be readable.
        if options.confirmation != nil, current > 0, restorable(current) == nil {
            throw .state("generation \(current), which a rollback would restore, cannot be read from \(store.directory), so nothing was changed")
        }

        // 2. Prepare.
        let number = store.nextGeneration()
        let persist = options.persist || store.isPersisted
        let meta = StateStore.Meta(
            generation: number, time: StateStore.timestamp(), placement: options.placement.description,
            profiles: plan.profiles.map(\.name), options: plan.options, command: options.command, forced: options.forced,
            persist: persist, previous: current, fingerprint: "", declarationDigest: JSONValue.array(declaration).digest)
        // With --confirm the boot copy follows the change only once it is confirmed: a reboot in the
        // confirmation window must not bring back a change nobody confirmed.
        let stagePersist = persist && options.confirmation == nil
        let journal = StateStore.Journal(
            operation: "apply", generation: number, previous: current, event: "apply",
            detail: options.forced ? "forced: \(options.command.joined(separator: " "))" : options.command.joined(separator: " "),
            token: options.confirmation?.token, placement: options.placement.description,
            before: Fingerprint.digest(listing, placements: [options.placement] + (currentPlacement.map { [$0] } ?? [])),
            persist: stagePersist ? "write" : "keep")
        do throws(StateStore.StoreError) {
            let replaced = JSONValue.array(Fingerprint.owned(listing, placement: options.placement)).pretty
            _ = try store.addGeneration(meta: meta, declaration: declaration, rulesetText: text, planJSON: PlanJSON.render(plan).pretty, replaced: replaced)
            Fault.point("apply.generation-written")
            let boot = Transaction.apply(declaration: declaration, placement: options.placement, live: LiveRuleset())
            if stagePersist { try store.stagePersisted(boot) }
            try store.stageCurrent(number)
            if options.confirmation != nil {
                // What the rollback and the confirmation will install, staged now, so that neither
                // needs free space later: `current` for a rollback, the boot copy for a confirmation.
                try store.stageRollbackCurrent(current)
                if persist { try store.stageConfirmedPersisted(boot) }
            }
            try store.setJournal(journal)
            Fault.point("apply.journal-written")
            // Last before the commit: the record the waiting watchdog takes the deadline from. If
            // this process dies from here on, the watchdog owns the change; before here, the
            // lifeline tells it that nothing was committed, and recovery discards the journal.
            if let confirmation = options.confirmation {
                let left = max(0, confirmation.deadline - Date().timeIntervalSince1970)
                try store.setPending(StateStore.Pending(
                    generation: number, restore: current, deadline: confirmation.deadline, token: confirmation.token, watchdog: confirmation.watchdog,
                    bootID: StateStore.bootID(), bootDeadline: StateStore.boottime() + left))
            }
        } catch {
            abandon(journal)
            throw .state("cannot save the state before applying, so nothing was changed: \(error)")
        }
        Fault.point("apply.pending-written")

        // 3. Commit.
        do throws(ApplyFailure) {
            try commit(batch)
        } catch {
            abandon(journal)
            throw error
        }
        Fault.point("apply.committed")

        // 4. Finalize.
        try finalizeOrUndo(journal, failureSubject: "the rules were applied")
        Fault.point("apply.finalized")
        return .applied(generation: number, previous: current, diff: diff)
    }

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
    public func restore(to target: Int, event: String, detail: String = "", token: String? = nil, mandatory: Bool = false) throws(ApplyFailure) {
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
        Fault.point("restore.journal-written")
        do throws(ApplyFailure) {
            try commit(batch)
        } catch {
            if prepared { abandon(journal) }
            throw error
        }
        Fault.point("restore.committed")
        if mandatory {
            do throws(StateStore.StoreError) {
                try finalize(journal, mustHappen: true)
            } catch {
                throw .stranded("the rules were rolled back in the kernel, but the state could not record it: \(error)")
            }
        } else {
            try finalizeOrUndo(journal, failureSubject: "the rules were changed")
        }
        Fault.point("restore.finalized")
    }

    /// portctl's objects that are live although the state records none: a table `inet portctl`,
    /// or an attached chain `portctl` (with its jump) in any table. Used by `remove` and `status`
    /// when the state directory is empty, lost, or another one.
    public static func unrecordedPlacements(_ live: LiveRuleset) -> [Placement] {
        var found: [Placement] = []
        if live.hasTable(family: "inet", name: RulesetBuilder.defaultTable) { found.append(.standalone(table: RulesetBuilder.defaultTable)) }
        for chain in live.chains where chain.name == Placement.attachedChain && !(chain.family == "inet" && chain.table == RulesetBuilder.defaultTable) {
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
                    "\(failureSubject), but the state could not be saved (\(error)), and undoing the change failed too (\(undoError)); generation \(journal.generation) is live; 'portctl remove --state-dir DIR' with a writable DIR takes portctl's rules out")
            }
            abandon(journal)
            // When the event was recorded before the failure, say in the history that it was undone.
            if store.history().suffix(64).contains(where: { $0.id == journal.id }) {
                try? store.record("undone", generation: journal.previous, detail: "generation \(journal.generation) could not be recorded (\(error)); the commit was undone", id: journal.id + "-undone")
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
    func finalize(_ journal: StateStore.Journal, note: String? = nil, mustHappen: Bool = false) throws(StateStore.StoreError) {
        var failure: StateStore.StoreError?
        func step(_ body: () throws(StateStore.StoreError) -> Void) throws(StateStore.StoreError) {
            do {
                try body()
            } catch {
                guard mustHappen else { throw error }
                if failure == nil { failure = error }
            }
        }
        if Fault.shouldFail("apply.finalize") { throw .io("cannot write \(store.directory)/current: injected fault") }
        try step { () throws(StateStore.StoreError) in
            if journal.generation > 0, var meta = store.meta(journal.generation), let placement = Placement(stateText: meta.placement),
                let (after, _) = try? readLive()
            {
                let fingerprint = Fingerprint.of(after, placement: placement)
                if fingerprint != meta.fingerprint {
                    meta.fingerprint = fingerprint
                    try store.updateMeta(meta)
                }
            }
        }
        try step { () throws(StateStore.StoreError) in
            if !store.history().suffix(64).contains(where: { $0.id == journal.id }) {
                let detail = note.map { journal.detail + " (\($0))" } ?? journal.detail
                try store.record(journal.event, generation: journal.generation, detail: detail, token: journal.token, id: journal.id)
            }
        }
        Fault.point("finalize.recorded")
        try step { () throws(StateStore.StoreError) in
            switch journal.persist {
            case "write": try store.installStagedPersisted()
            case "remove": try store.setPersisted(nil)
            default: break
            }
        }
        Fault.point("finalize.persisted")
        if Fault.shouldFail("finalize.install") { throw .io("cannot write \(store.directory)/current: injected fault") }
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
        guard let meta = store.meta(number), Placement(stateText: meta.placement) != nil, let declaration = store.declaration(number) else { return nil }
        return (meta, declaration)
    }

    /// Puts back what was live before a committed journal, in the kernel only.
    func undo(_ journal: StateStore.Journal) throws(ApplyFailure) {
        let (_, live) = try readLive()
        let changed = Placement(stateText: journal.placement)
        let previousMeta = journal.previous > 0 ? store.meta(journal.previous) : nil
        let batch: JSONValue
        if let previousMeta, let placement = Placement(stateText: previousMeta.placement), let declaration = store.declaration(journal.previous) {
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
                    detail: "the machine restarted before generation \(pending.generation) was confirmed; the change did not survive it", token: pending.token)
                try? store.installCurrent(pending.restore)
                try? store.setPending(nil)
                store.discardConfirmedPersisted()
                notes.append("generation \(pending.generation) was awaiting confirmation when the machine restarted: it is gone, and recorded as rolled back")
            } else if !Watchdog.isAlive(pending) {
                if pending.hasExpired() {
                    do throws(ApplyFailure) {
                        try expire(
                            pending, detail: "generation \(pending.generation) was not confirmed in time; its rollback timer had stopped, so \(actor) rolled it back")
                        notes.append("generation \(pending.generation) was not confirmed in time and its rollback timer had stopped: rolled back")
                    } catch {
                        if case .stranded = error {
                            notes.append("generation \(pending.generation) was not confirmed in time: \(error)")
                            if store.outcome(token: pending.token) == nil {
                                try? store.record("auto-rollback", generation: pending.restore, detail: error.description, token: pending.token)
                            }
                            try? store.setPending(nil)
                        } else {
                            // Left pending: the next portctl to take the lock tries again.
                            notes.append("generation \(pending.generation) was not confirmed in time, and rolling it back failed (it is tried again): \(error)")
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
        if store.history().suffix(64).contains(where: { $0.id == journal.id })
            || (journal.generation != journal.previous && store.current() == journal.generation && store.read("current") != nil)
        {
            return finishRecovered(journal)
        }
        if let made = journal.bootID, let boot = StateStore.bootID(), made != boot {
            abandon(journal)
            if journal.operation == "apply" {
                try? store.record("abandoned", generation: journal.generation, detail: "never recorded before the machine restarted", token: journal.token, id: journal.id)
            }
            return "a \(journal.event) of generation \(journal.generation) was interrupted before the machine restarted; discarded it"
        }
        guard let (listing, _) = try? readLive() else { return nil }
        let placement = Placement(stateText: journal.placement)
        let placements = [placement].compactMap { $0 }
            + (journal.previous > 0 ? [store.meta(journal.previous).flatMap { Placement(stateText: $0.placement) }].compactMap { $0 } : [])
        let present = placement.map { !Fingerprint.owned(listing, placement: $0).isEmpty } ?? false
        let unchanged = Fingerprint.digest(listing, placements: placements) == journal.before
        // Committed: the objects changed, and are there (or, for a removal, gone).
        let committed = !unchanged && (journal.generation > 0 ? present : !present)
        if committed { return finishRecovered(journal) }
        abandon(journal)
        if journal.operation == "apply" {
            try? store.record("abandoned", generation: journal.generation, detail: unchanged ? "never committed" : "portctl's objects changed meanwhile", token: journal.token, id: journal.id)
        }
        return unchanged
            ? "generation \(journal.generation) was prepared by an interrupted portctl but never committed; discarded it"
            : "an interrupted \(journal.event) of generation \(journal.generation) left portctl's objects neither as before nor as intended (edited, or flushed?); discarded it: run portctl status"
    }

    func finishRecovered(_ journal: StateStore.Journal) -> String {
        do {
            try finalize(journal, note: "recorded by \(actor): the portctl that committed it was interrupted", mustHappen: journal.operation == "restore")
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

    // MARK: - Pending changes

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
    public func confirmPending(
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
        Fault.point("confirm.recorded")
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
        do throws(StateStore.StoreError) { try store.setPending(nil) } catch { problems.append("pending.json could not be removed (the next portctl removes it): \(error)") }
        store.discardRollbackCurrent()
        stopWatchdog(pending)
        return .confirmed(generation: pending.generation, note: problems.isEmpty ? nil : problems.joined(separator: "; "))
    }

    /// Rolls back the pending change now. Under the lock.
    public func declinePending(token: String? = nil, detail: String) throws(ApplyFailure) -> Settled {
        guard let pending = store.pending(), token == nil || pending.token == token, store.outcome(token: pending.token) == nil else {
            return .nothingPending
        }
        try restore(to: pending.restore, event: "rollback", detail: detail, token: pending.token)
        stopWatchdog(pending)
        return .declined(generation: pending.generation)
    }

    /// The watchdog's work at the deadline: roll back unless confirmed meanwhile. Under the lock
    /// (or, when the state directory cannot even be locked, without it: nothing else can change it).
    public func expirePending(token: String) throws(ApplyFailure) {
        guard let pending = store.pending(), pending.token == token, store.outcome(token: token) == nil else { return }
        try expire(pending, detail: "generation \(pending.generation) was not confirmed in time")
    }

    /// Rolls back an expired change whatever it takes: to the generation before it; if that cannot
    /// be read, or the kernel refuses it three times, by taking portctl's objects out, which
    /// can only open the firewall, never close it further. Throws only when even that fails.
    func expire(_ pending: StateStore.Pending, detail: String) throws(ApplyFailure) {
        var lastError: ApplyFailure?
        if pending.restore == 0 || restorable(pending.restore) != nil {
            for attempt in 0..<3 {
                do throws(ApplyFailure) {
                    try restore(to: pending.restore, event: "auto-rollback", detail: detail, token: pending.token, mandatory: true)
                    return
                } catch {
                    if case .stranded = error { throw error }
                    lastError = error
                    if attempt < 2 { usleep(500_000) }
                }
            }
        }
        guard pending.restore != 0 else { throw lastError ?? .usage("nothing to roll back") }
        let why = lastError.map { "rolling back to generation \(pending.restore) failed (\($0))" } ?? "generation \(pending.restore) cannot be read"
        try restore(
            to: 0, event: "auto-rollback", detail: "\(detail); \(why), so portctl's rules were taken out instead", token: pending.token, mandatory: true)
    }

    public func stopWatchdog(_ pending: StateStore.Pending) {
        if pending.watchdog > 0, pending.watchdog != getpid(), Watchdog.isAlive(pending) { kill(pending.watchdog, SIGTERM) }
    }

    // MARK: - Steps

    func readLive() throws(ApplyFailure) -> (JSONValue, LiveRuleset) {
        do {
            let text = try backend.listRuleset(json: true, stateless: true)
            let value = try JSONValue.parse(text)
            return (value, try LiveRuleset(value: value))
        } catch let error as NftablesError {
            throw error.kind == .permission ? .permission(permissionMessage()) : .rejected(message: error.message, offending: nil)
        } catch {
            // libnftables 1.0.6 writes broken JSON for a table with `flags owner`.
            if geteuid() == 0, let text = try? backend.listRuleset(json: false, stateless: true), !Self.ownedTables(text).isEmpty {
                throw .permission(permissionMessage())
            }
            throw .rejected(message: "cannot read the live ruleset: \(error)", offending: nil)
        }
    }

    static let permissionMessage = "permission denied: changing nftables needs root (or CAP_NET_ADMIN); run portctl with sudo"

    /// Root is refused when another process owns the table (nft's `flags owner`): say that, not
    /// "use sudo". libnftables 1.0.6 prints table flags wrongly in JSON, so the text listing is read.
    func permissionMessage() -> String {
        guard geteuid() == 0 else { return Self.permissionMessage }
        if let text = try? backend.listRuleset(json: false, stateless: true), let owned = Self.ownedTables(text).first {
            let owner = owned.program.map { " (\($0))" } ?? ""
            return "permission denied: table \(owned.table) is owned by another process\(owner) that holds it with nft's 'flags owner'; no other program, root included, may change it until that process exits"
        }
        return "permission denied although portctl runs as root: a security module, or a table owned by another process (nft 'flags owner'), refused the change"
    }

    /// Tables a process owns, from nft's text listing: `table inet portctl { # progname nft` then `flags owner`.
    package static func ownedTables(_ text: String) -> [(table: String, program: String?)] {
        var result: [(String, String?)] = []
        var current: (String, String?)?
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("table ") {
                let head = line.split(separator: "{", maxSplits: 1)
                let name = head[0].dropFirst("table ".count).trimmingCharacters(in: .whitespaces)
                let comment = head.count > 1 ? head[1].trimmingCharacters(in: .whitespaces) : ""
                let program = comment.hasPrefix("# progname ") ? String(comment.dropFirst("# progname ".count)) : nil
                current = (name, program)
            } else if trimmed.hasPrefix("flags "), trimmed.split(whereSeparator: { $0 == " " || $0 == "," }).contains("owner"), let table = current {
                result.append(table)
                current = nil
            } else if !trimmed.isEmpty, !trimmed.hasPrefix("flags") {
                current = nil
            }
        }
        return result
    }

    func checkPlacement(_ placement: Placement, live: LiveRuleset) throws(ApplyFailure) {
        guard case .attach(let family, let table, let chain) = placement else { return }
        guard live.hasTable(family: family, name: table) else {
            throw .usage("--attach: table \(family) \(table) does not exist; create it first, or apply standalone")
        }
        guard let base = live.chain(family: family, table: table, name: chain) else {
            throw .usage("--attach: chain \(chain) does not exist in table \(family) \(table)")
        }
        guard base.hook == "input" else {
            throw .usage("--attach: chain \(family) \(table) \(chain) is not an input base chain (hook: \(base.hook ?? "none"))")
        }
    }

    /// A standalone table drops by default: refuse when the admin's own SSH session would not survive.
    func checkSession(_ session: SSHSession?, plan: Plan) throws(ApplyFailure) {
        guard let session else { return }
        if plan.sshPorts.contains(session.serverPort) { return }
        let client = try? CIDR(parsing: session.client)
        let covered = plan.inboundEntries.contains { entry in
            guard entry.transport == .tcp, entry.range.contains(session.serverPort) else { return false }
            switch entry.scope {
            case .world: return true
            case .loopback: return false
            case .addresses(_, let cidrs): return client.map { address in cidrs.contains { $0.contains(address) } } ?? false
            }
        }
        if !covered {
            throw .lockout(
                "refusing to apply: the standalone table drops by default and nothing in the plan accepts this SSH session (from \(session.client) to port \(session.serverPort)/tcp); keep the SSH guard (drop --no-ssh-guard) or add --ssh-port \(session.serverPort)")
        }
    }

    /// One transaction: take out the objects of a different earlier placement, then apply.
    func combined(removing oldPlacement: Placement?, applying declaration: [JSONValue], at placement: Placement, live: LiveRuleset) -> JSONValue {
        let apply = Transaction.apply(declaration: declaration, placement: placement, live: live)
        guard let oldPlacement, oldPlacement != placement, Transaction.isPresent(oldPlacement, in: live) else { return apply }
        let remove = Transaction.remove(placement: oldPlacement, live: live)
        let commands = (remove["nftables"]?.array ?? []) + (apply["nftables"]?.array ?? []).dropFirst()
        return .object([("nftables", .array(commands))])
    }

    func check(_ batch: JSONValue) throws(ApplyFailure) {
        do {
            try backend.run(batch, check: true)
        } catch {
            throw failure(error, batch: batch)
        }
    }

    func commit(_ batch: JSONValue) throws(ApplyFailure) {
        var batch = batch
        // Fault injection: the batch carries one more command, which the kernel must refuse, so that
        // a test can prove a refused commit leaves the ruleset byte-identical.
        if Fault.shouldFail("kernel.commit"), let commands = batch["nftables"]?.array {
            let impossible = JSONValue.object([("add", .object([("rule", .object([
                ("family", .string("inet")), ("table", .string("portctl-test-fault")), ("chain", .string("missing")),
                ("expr", .array([.object([("accept", .null)])])),
            ]))]))])
            batch = .object([("nftables", .array(commands + [impossible]))])
        }
        do {
            try backend.run(batch, check: false)
        } catch {
            throw failure(error, batch: batch)
        }
    }

    func failure(_ error: NftablesError, batch: JSONValue) -> ApplyFailure {
        if error.kind == .permission { return .permission(permissionMessage()) }
        return .rejected(
            message: error.message,
            offending: offendingCommand(batch) ?? "none alone: the dry run accepted the batch and the kernel refused it at commit")
    }

    /// libnftables does not say which command of a batch failed, so find the shortest failing
    /// prefix by bisection, with dry runs only.
    func offendingCommand(_ batch: JSONValue) -> String? {
        guard let commands = batch["nftables"]?.array, commands.count > 1, commands.count <= 4096 else { return nil }
        func fails(_ count: Int) -> Bool {
            (try? backend.run(.object([("nftables", .array(Array(commands.prefix(count))))]), check: true)) == nil
        }
        guard fails(commands.count) else { return nil }
        var low = 1, high = commands.count
        while low < high {
            let middle = (low + high) / 2
            if fails(middle) { high = middle } else { low = middle + 1 }
        }
        return "#\(low) of \(commands.count): \(commands[low - 1].compact)"
    }

    func rulesetText(_ ruleset: NftRuleset, placement: Placement) -> String {
        switch placement {
        case .standalone: return NftTextRenderer.render(ruleset)
        case .attach: return NftTextRenderer.body(ruleset)
        }
    }
}

extension Fingerprint {
    /// portctl's objects in a listing, as they were: the snapshot of what an apply replaces.
    public static func owned(_ listing: JSONValue, placement: Placement) -> [JSONValue] {
        (listing["nftables"]?.array ?? []).filter { isOwned($0, placement: placement) }
    }

    /// A short digest of portctl's objects under several placements: what a journal compares to
    /// tell whether its commit reached the kernel.
    public static func digest(_ listing: JSONValue, placements: [Placement]) -> String {
        var seen = Set<Placement>()
        let parts = placements.filter { seen.insert($0).inserted }.map { JSONValue.string(of(listing, placement: $0)) }
        return JSONValue.array(parts).digest
    }
}

/// The rollback timer's process, as recorded in a pending change.
public enum Watchdog {
    /// True when the recorded process is alive and is that change's watchdog (its command line
    /// carries the token), so a reused pid does not count.
    public static func isAlive(_ pending: StateStore.Pending) -> Bool {
        guard pending.watchdog > 0, let data = FileManager.default.contents(atPath: "/proc/\(pending.watchdog)/cmdline") else { return false }
        let words = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        guard words.contains("_watchdog"), words.contains(pending.token) else { return false }
        // A zombie (killed, not yet reaped) is not alive.
        if let stat = FileManager.default.contents(atPath: "/proc/\(pending.watchdog)/stat"), let close = stat.lastIndex(of: UInt8(ascii: ")")),
            stat.count > close + 2, stat[close + 2] == UInt8(ascii: "Z")
        {
            return false
        }
        return true
    }
}
