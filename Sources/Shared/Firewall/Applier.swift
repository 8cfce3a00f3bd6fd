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

    public init(
        placement: Placement, dryRun: Bool = false, persist: Bool = false, forced: Bool = false, command: [String] = [],
        session: SSHFacts.Session? = nil, skipCheck: Bool = false
    ) {
        self.skipCheck = skipCheck
        self.placement = placement
        self.dryRun = dryRun
        self.persist = persist
        self.forced = forced
        self.command = command
        self.session = session
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

/// Why an apply, rollback or remove did not happen. In every case the live ruleset is unchanged.
public enum ApplyFailure: Error, Sendable, CustomStringConvertible {
    case permission(String)
    /// libnftables or the kernel refused the batch; `offending` is the first command that fails.
    case rejected(message: String, offending: String?)
    case lockout(String)
    case state(String)
    case usage(String)
    case busy(String)

    public var description: String {
        switch self {
        case .permission(let message): return message
        case .rejected(let message, let offending):
            return "the kernel rejected the change, and nothing was changed: \(message)" + (offending.map { "\nfirst failing command: \($0)" } ?? "")
        case .lockout(let message), .state(let message), .usage(let message), .busy(let message): return message
        }
    }

    public var status: ExitStatus {
        switch self {
        case .permission: return .noPermission
        case .rejected: return .checkFailed
        case .lockout: return .lockout
        case .state: return .cannotCreate
        case .usage: return .usage
        case .busy: return .busy
        }
    }
}

/// Applies plans to the kernel through a backend, keeping generations in a state store.
///
/// Every change is one libnftables transaction, checked first in dry-run mode. If the kernel
/// rejects it, the ruleset is exactly as it was.
public struct Applier: Sendable {
    public let backend: any NftablesBackend
    public let store: StateStore

    public init(backend: any NftablesBackend, store: StateStore) {
        self.backend = backend
        self.store = store
    }

    public func apply(_ plan: Plan, options: ApplyOptions) throws(ApplyFailure) -> ApplyOutcome {
        let ruleset = RulesetBuilder.build(plan, placement: options.placement)
        let declaration = NftJSONRenderer.declaration(ruleset)
        let (listing, live) = try readLive()
        try checkPlacement(options.placement, live: live)
        if case .standalone = options.placement { try checkSession(options.session, plan: plan) }

        let current = store.current()
        let currentMeta = current > 0 ? store.meta(current) : nil
        let batch = combined(removing: currentMeta.flatMap { Placement(stateText: $0.placement) }, applying: declaration, at: options.placement, live: live)
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
        try commit(batch)
        let (after, _) = try readLive()
        let number = store.nextGeneration()
        let meta = StateStore.Meta(
            generation: number, time: StateStore.timestamp(), placement: options.placement.description,
            profiles: plan.profiles.map(\.name), options: plan.options, command: options.command, forced: options.forced,
            persist: options.persist || store.isPersisted, previous: current, fingerprint: Fingerprint.of(after, placement: options.placement),
            declarationDigest: JSONValue.array(declaration).digest)
        do {
            let replaced = JSONValue.array(Fingerprint.owned(listing, placement: options.placement)).pretty
            _ = try store.addGeneration(meta: meta, declaration: declaration, rulesetText: text, planJSON: PlanJSON.render(plan).pretty, replaced: replaced)
            try store.setCurrent(number)
            try store.record("apply", generation: number, detail: options.forced ? "forced: \(options.command.joined(separator: " "))" : options.command.joined(separator: " "))
            if meta.persist { try store.setPersisted(Transaction.apply(declaration: declaration, placement: options.placement, live: LiveRuleset())) }
        } catch {
            throw .state("the rules are applied, but the state could not be saved: \(error)")
        }
        return .applied(generation: number, previous: current, diff: diff)
    }

    /// Makes generation `target` live again; 0 takes portctl's objects out.
    public func restore(to target: Int, event: String, detail: String = "") throws(ApplyFailure) {
        let current = store.current()
        let currentPlacement = current > 0 ? store.meta(current).flatMap { Placement(stateText: $0.placement) } : nil
        let (_, live) = try readLive()
        let batch: JSONValue
        var targetMeta: StateStore.Meta?
        if target == 0 {
            guard let placement = currentPlacement else { throw .usage("portctl has nothing applied") }
            batch = Transaction.remove(placement: placement, live: live)
        } else {
            guard let meta = store.meta(target), let placement = Placement(stateText: meta.placement), let declaration = store.declaration(target)
            else { throw .usage("generation \(target) does not exist (see portctl history)") }
            targetMeta = meta
            batch = combined(removing: currentPlacement, applying: declaration, at: placement, live: live)
        }
        try check(batch)
        try commit(batch)
        do {
            if var meta = targetMeta, let placement = Placement(stateText: meta.placement) {
                let (after, _) = try readLive()
                meta.fingerprint = Fingerprint.of(after, placement: placement)
                try store.updateMeta(meta)
                if store.isPersisted, let declaration = store.declaration(target) {
                    try store.setPersisted(Transaction.apply(declaration: declaration, placement: placement, live: LiveRuleset()))
                }
            } else {
                try store.setPersisted(nil)
            }
            try store.setCurrent(target)
            try store.record(event, generation: target, detail: detail.isEmpty ? "from generation \(current)" : detail)
        } catch {
            throw .state("the rules are restored, but the state could not be saved: \(error)")
        }
    }

    // MARK: - Steps


    func readLive() throws(ApplyFailure) -> (JSONValue, LiveRuleset) {
        do {
            let text = try backend.listRuleset(json: true, stateless: true)
            let value = try JSONValue.parse(text)
            return (value, try LiveRuleset(value: value))
        } catch let error as NftablesError {
            throw error.kind == .permission ? .permission(Self.permissionMessage) : .rejected(message: error.message, offending: nil)
        } catch {
            throw .rejected(message: "cannot read the live ruleset: \(error)", offending: nil)
        }
    }

    static let permissionMessage = "permission denied: changing nftables needs root (or CAP_NET_ADMIN); run portctl with sudo"

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
        if error.kind == .permission { return .permission(Self.permissionMessage) }
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
}
