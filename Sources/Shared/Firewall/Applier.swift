import Foundation

#if canImport(Glibc)
import Glibc
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
    public var session: SSHFacts.Session?
    /// Skip the separate libnftables dry run. The commit is still one atomic transaction, so a
    /// refused batch still changes nothing; only the early, side-effect-free rehearsal is skipped.
    public var skipCheck: Bool
    /// `--confirm`: the pending record written (with the journal, before the commit) for the
    /// watchdog that is already running and waiting for it.
    public var confirmation: Confirmation?

    public init(
        placement: Placement, dryRun: Bool = false, persist: Bool = false, forced: Bool = false, command: [String] = [],
        session: SSHFacts.Session? = nil, skipCheck: Bool = false, confirmation: Confirmation? = nil
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

    public var status: ExitStatus {
        switch self {
        case .permission: return .noPermission
        case .rejected: return .checkFailed
        case .lockout: return .lockout
        case .state, .stranded: return .cannotCreate
        case .usage: return .usage
        case .busy: return .busy
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
        // Before the dry run: a no-op must not pay for a kernel rehearsal.
        if let currentMeta, currentMeta.placement == options.placement.description,
            currentMeta.declarationDigest == JSONValue.array(declaration).digest,
            Fingerprint.of(listing, placement: options.placement) == currentMeta.fingerprint,
            options.persist == store.isPersisted || !options.persist
        {
            return .noChange(generation: current)
        }
        if !options.skipCheck { try check(batch) }

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
            if stagePersist { try store.stagePersisted(Transaction.apply(declaration: declaration, placement: options.placement, live: LiveRuleset())) }
            try store.stageCurrent(number)
            try store.setJournal(journal)
            Fault.point("apply.journal-written")
            // Last before the commit: the record the waiting watchdog takes the deadline from. If
            // this process dies from here on, the watchdog owns the change; before here, the
            // lifeline tells it that nothing was committed, and recovery discards the journal.
            if let confirmation = options.confirmation {
                try store.setPending(StateStore.Pending(
                    generation: number, restore: current, deadline: confirmation.deadline, token: confirmation.token, watchdog: confirmation.watchdog))
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
    /// A `mandatory` restore is the rollback of a change nobody confirmed: the kernel must go back
    /// whatever the state directory allows. If its journal cannot be written it goes ahead without
    /// one (the pending record already names the restore point, and redoing it is harmless), and
    /// if recording it fails afterwards it is not undone; the error then says the rules *were*
    /// rolled back.
    public func restore(to target: Int, event: String, detail: String = "", token: String? = nil, mandatory: Bool = false) throws(ApplyFailure) {
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
            guard let meta = store.meta(target), let targetPlacement = Placement(stateText: meta.placement), let declaration = store.declaration(target)
            else { throw .usage("generation \(target) does not exist (see portctl history)") }
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
                try finalize(journal)
            } catch {
                throw .stranded("generation \(current) was rolled back in the kernel, but the state could not be saved: \(error)")
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
    /// generation's fingerprint, the history event, once), then the renames that make it current
    /// (the boot copy, `current`), which need none; a failure in any of these is thrown, for the
    /// caller to undo the commit. Removing the pending record it settles and the journal comes
    /// last and is best effort: the state is already right, and a journal left over is settled
    /// again, harmlessly, by the next portctl.
    func finalize(_ journal: StateStore.Journal, note: String? = nil) throws(StateStore.StoreError) {
        if Fault.shouldFail("apply.finalize") { throw .io("cannot write \(store.directory)/current: injected fault") }
        if journal.generation > 0, var meta = store.meta(journal.generation), let placement = Placement(stateText: meta.placement) {
            if let (after, _) = try? readLive() {
                meta.fingerprint = Fingerprint.of(after, placement: placement)
                try store.updateMeta(meta)
            }
        }
        if !store.history().suffix(64).contains(where: { $0.id == journal.id }) {
            let detail = note.map { journal.detail + " (\($0))" } ?? journal.detail
            try store.record(journal.event, generation: journal.generation, detail: detail, token: journal.token, id: journal.id)
        }
        Fault.point("finalize.recorded")
        switch journal.persist {
        case "write": try store.installStagedPersisted()
        case "remove": try store.setPersisted(nil)
        default: break
        }
        try store.installCurrent(journal.generation)
        // A restore that settles a pending change ends it (after its event is recorded, so a
        // waiting apply finds the outcome); an apply with --confirm starts it.
        if journal.operation == "restore", let token = journal.token, let pending = store.pending(), pending.token == token {
            try? store.setPending(nil)
        }
        try? store.setJournal(nil)
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
                if let (listing, _) = try? readLive() {
                    let placements = [Placement(stateText: journal.placement)].compactMap { $0 }
                        + (journal.previous > 0 ? [store.meta(journal.previous).flatMap { Placement(stateText: $0.placement) }].compactMap { $0 } : [])
                    if Fingerprint.digest(listing, placements: placements) == journal.before && journal.operation == "apply" {
                        abandon(journal)
                        notes.append("generation \(journal.generation) was prepared by an interrupted portctl but never committed; discarded it")
                        if let token = journal.token { try? store.record("abandoned", generation: journal.generation, detail: "never committed", token: token, id: journal.id) }
                    } else if Fingerprint.digest(listing, placements: placements) == journal.before {
                        abandon(journal)
                        notes.append("an interrupted \(journal.event) of generation \(journal.generation) never reached the kernel; discarded it")
                    } else {
                        do {
                            try finalize(journal, note: "recorded by \(actor): the portctl that committed it was interrupted")
                            notes.append("recorded generation \(journal.generation) (\(journal.event)), which an interrupted portctl had committed")
                        } catch {
                            notes.append("cannot record the interrupted \(journal.event) of generation \(journal.generation): \(error)")
                        }
                    }
                }
            } else {
                try? store.setJournal(nil)
                notes.append("removed an unreadable journal.json")
            }
        }
        if let pending = store.pending() {
            if store.outcome(token: pending.token) != nil {
                try? store.setPending(nil)
                notes.append("removed the settled pending record of generation \(pending.generation)")
            } else if !Watchdog.isAlive(pending) {
                if Date().timeIntervalSince1970 >= pending.deadline {
                    do throws(ApplyFailure) {
                        try restore(
                            to: pending.restore, event: "auto-rollback",
                            detail: "generation \(pending.generation) was not confirmed in time; its rollback timer had stopped, so \(actor) rolled it back",
                            token: pending.token, mandatory: true)
                        notes.append("generation \(pending.generation) was not confirmed in time and its rollback timer had stopped: rolled back")
                    } catch {
                        if case .stranded = error {
                            notes.append("generation \(pending.generation) was not confirmed in time: \(error)")
                        } else {
                            try? store.record("auto-rollback-failed", generation: pending.generation, detail: error.description, token: pending.token)
                            notes.append("generation \(pending.generation) was not confirmed in time, and rolling it back failed: \(error)")
                        }
                        try? store.setPending(nil)
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
        case confirmed(generation: Int)
        case declined(generation: Int)
        case tooLate(generation: Int)
        case nothingPending
    }

    /// Keeps the pending change (`token` nil: whichever is pending). Under the lock. The
    /// confirmation is recorded before the pending record goes, so a waiting apply finds it.
    public func confirmPending(token: String? = nil, detail: String, now: Double = Date().timeIntervalSince1970) throws(ApplyFailure) -> Settled {
        guard let pending = store.pending(), token == nil || pending.token == token, store.outcome(token: pending.token) == nil else {
            return .nothingPending
        }
        guard now < pending.deadline else { return .tooLate(generation: pending.generation) }
        do throws(StateStore.StoreError) {
            if let meta = store.meta(pending.generation), meta.persist, let placement = Placement(stateText: meta.placement),
                let declaration = store.declaration(pending.generation)
            {
                try store.setPersisted(Transaction.apply(declaration: declaration, placement: placement, live: LiveRuleset()))
            }
            try store.record("confirm", generation: pending.generation, detail: detail, token: pending.token)
            Fault.point("confirm.recorded")
            try store.setPending(nil)
        } catch {
            throw .state("cannot record the confirmation (\(error)); generation \(pending.generation) still rolls back at its deadline")
        }
        stopWatchdog(pending)
        return .confirmed(generation: pending.generation)
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

    /// The watchdog's work at the deadline: roll back unless confirmed meanwhile. Under the lock.
    public func expirePending(token: String) throws(ApplyFailure) {
        guard let pending = store.pending(), pending.token == token, store.outcome(token: token) == nil else { return }
        try restore(
            to: pending.restore, event: "auto-rollback", detail: "generation \(pending.generation) was not confirmed in time", token: token, mandatory: true)
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
    static func ownedTables(_ text: String) -> [(table: String, program: String?)] {
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
    func checkSession(_ session: SSHFacts.Session?, plan: Plan) throws(ApplyFailure) {
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
