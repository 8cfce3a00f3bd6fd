import FoundationEssentials
import PlanRendering
import PortModel
import PortPlanning

#if canImport(Glibc)
    import Glibc
#endif

extension Applier {
    // MARK: - Steps

    func readLive() throws(ApplyFailure) -> (JSONValue, LiveRuleset) {
        do {
            let text = try backend.listRuleset(json: true, stateless: true)
            let value = try JSONValue.parse(text)
            return (value, try LiveRuleset(value: value))
        } catch {
            throw readFailure(error, reading: "the live ruleset")
        }
    }

    /// Why reading the kernel failed: no permission (said as `permissionMessage` says it), or a
    /// listing that cannot be read, which libnftables 1.0.6 writes for a table with `flags owner`.
    func readFailure(_ error: any Error, reading what: String) -> ApplyFailure {
        if let error = error as? NftablesError {
            return .from(error, permission: permissionMessage())
        }
        if geteuid() == 0, let text = try? backend.listRuleset(json: false, stateless: true), !Self.ownedTables(text).isEmpty {
            return .permission(permissionMessage())
        }
        return .rejected(message: "cannot read \(what): \(error)", offending: nil)
    }

    /// The tables of `placements` (each once), as one listing in the shape of `list ruleset`: what
    /// an apply reads instead of the whole ruleset.
    func readOwn(_ placements: [Placement]) throws(ApplyFailure) -> (JSONValue, LiveRuleset) {
        var seen = Set<String>()
        var items: [JSONValue] = []
        do {
            for placement in placements where seen.insert("\(placement.family) \(placement.table)").inserted {
                guard let text = try backend.listTable(family: placement.family, name: placement.table) else { continue }
                items += try JSONValue.parse(text)["nftables"]?.array?.filter { $0["metainfo"] == nil } ?? []
            }
            let value = JSONValue.object([("nftables", .array(items))])
            return (value, try LiveRuleset(value: value))
        } catch {
            throw readFailure(error, reading: "the live ruleset")
        }
    }

    /// Where in the kernel's history this is: the boot, the network namespace (its cookie, never
    /// reused within a boot) and the ruleset's generation. Equal marks mean no nftables commit
    /// happened in between. Nil when any of the three cannot be read.
    func kernelMark() -> String? {
        guard let place = kernelPlace(), let generation = backend.generation() else { return nil }
        return "\(place) \(generation)"
    }

    /// The boot and network namespace, without the generation: "BOOT-ID COOKIE".
    func kernelPlace() -> String? {
        guard let boot = StateStore.bootID(), let cookie = backend.namespaceCookie() else { return nil }
        return "\(boot) \(cookie)"
    }

    static func generation(ofMark mark: String) -> UInt32? { mark.split(separator: " ").last.flatMap { UInt32($0) } }

    /// A mark for the same boot and namespace, at another generation.
    static func mark(_ mark: String, atGeneration generation: UInt32) -> String {
        (mark.split(separator: " ").dropLast().map(String.init) + [String(generation)]).joined(separator: " ")
    }

    /// The handle of table `inet NAME`, 0 when there is none: no contents are read.
    func tableHandle(_ name: String) throws(ApplyFailure) -> Int {
        do {
            return try backend.tableHandle(family: "inet", name: name)
        } catch {
            throw readFailure(error, reading: "the list of tables")
        }
    }

    /// Plans with more set elements than this are not read back after their commit (that would cost
    /// as much as the commit); `status` records their fingerprint when it next reads the ruleset.
    static let readBackLimit = 2_000

    static let permissionMessage = "permission denied: changing nftables needs root (or CAP_NET_ADMIN); run portctl with sudo"

    /// Root is refused when another process owns the table (nft's `flags owner`): say that, not
    /// "use sudo". libnftables 1.0.6 prints table flags wrongly in JSON, so the text listing is read.
    func permissionMessage() -> String {
        guard geteuid() == 0 else { return Self.permissionMessage }
        if let text = try? backend.listRuleset(json: false, stateless: true), let owned = Self.ownedTables(text).first {
            let owner = owned.program.map { " (\($0))" } ?? ""
            return
                "permission denied: table \(owned.table) is owned by another process\(owner) that holds it with nft's 'flags owner'; no other program, root included, may change it until that process exits"
        }
        return
            "permission denied although portctl runs as root: a security module, or a table owned by another process (nft 'flags owner'), refused the change"
    }

    /// Tables a process owns, from nft's text listing: `table inet portctl { # progname nft` then `flags owner`.
    package static func ownedTables(_ text: String) -> [(table: String, program: String?)] {
        var result: [(String, String?)] = []
        var current: (String, String?)?
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingSpaces()
            if line.hasPrefix("table ") {
                let head = line.split(separator: "{", maxSplits: 1)
                let name = head[0].dropFirst("table ".count).trimmingSpaces()
                let comment = head.count > 1 ? head[1].trimmingSpaces() : ""
                let program = comment.hasPrefix("# progname ") ? String(comment.dropFirst("# progname ".count)) : nil
                current = (name, program)
            } else if trimmed.hasPrefix("flags "), trimmed.split(whereSeparator: { $0 == " " || $0 == "," }).contains("owner"),
                let table = current
            {
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
                "refusing to apply: the standalone table drops by default and nothing in the plan accepts this SSH session (from \(session.client) to port \(session.serverPort)/tcp); keep the SSH guard (drop --no-ssh-guard) or add --ssh-port \(session.serverPort)"
            )
        }
    }

    /// One transaction: take out the objects of a different earlier placement, then apply.
    func combined(removing oldPlacement: Placement?, applying declaration: [JSONValue], at placement: Placement, live: LiveRuleset)
        -> JSONValue
    {
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
        if store.faults.shouldFail("kernel.commit"), let commands = batch["nftables"]?.array {
            let impossible = JSONValue.object([
                (
                    "add",
                    .object([
                        (
                            "rule",
                            .object([
                                ("family", .string("inet")), ("table", .string("portctl-test-fault")), ("chain", .string("missing")),
                                ("expr", .array([.object([("accept", .null)])])),
                            ])
                        )
                    ])
                )
            ])
            batch = .object([("nftables", .array(commands + [impossible]))])
        }
        do {
            try backend.run(batch, check: false)
        } catch {
            throw failure(error, batch: batch)
        }
    }

    func failure(_ error: NftablesError, batch: JSONValue) -> ApplyFailure {
        if error.kind != .rejected { return .from(error, permission: permissionMessage()) }
        return .rejected(
            message: error.message,
            offending: offendingCommand(batch)
                ?? ((batch["nftables"]?.array?.count ?? 0) > Self.bisectionLimit
                    ? "not searched: the batch has more than \(Self.bisectionLimit) commands"
                    : "none alone: the dry run accepted the batch and the kernel refused it at commit"))
    }

    /// Batches longer than this are not bisected: each step is a kernel dry run.
    static let bisectionLimit = 4096

    /// libnftables does not say which command of a batch failed, so find the shortest failing
    /// prefix by bisection, with dry runs only.
    func offendingCommand(_ batch: JSONValue) -> String? {
        guard let commands = batch["nftables"]?.array, commands.count > 1, commands.count <= Self.bisectionLimit else { return nil }
        func fails(_ count: Int) -> Bool {
            (try? backend.run(.object([("nftables", .array(Array(commands.prefix(count))))]), check: true)) == nil
        }
        guard fails(commands.count) else { return nil }
        var low = 1
        var high = commands.count
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
