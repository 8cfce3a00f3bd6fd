import PlanRendering
import PortModel
import PortPlanning

/// Why libnftables refused a command.
public struct NftablesError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Not root, or no CAP_NET_ADMIN.
        case permission
        /// The kernel or the parser rejected the batch; nothing was committed.
        case rejected
        /// libnftables could not be loaded (it is loaded when first needed); nothing was sent.
        case unavailable
    }

    public let kind: Kind
    /// libnftables' own error text.
    public let message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// The kernel's nftables, as portctl uses it: JSON batches in, listings out.
///
/// `LibNftablesBackend` (NftablesKernel) is the real one; `RecordingBackend` (TestSupport) a fake.
public protocol NftablesBackend: AnyObject, Sendable {
    /// Runs a libnftables JSON batch as one transaction. With `check`, the kernel validates it
    /// (libnftables' dry-run mode) and nothing is committed.
    func run(_ batch: JSONValue, check: Bool) throws(NftablesError)
    /// `list ruleset`, as libnftables JSON or as nft text; `stateless` leaves counters out.
    func listRuleset(json: Bool, stateless: Bool) throws(NftablesError) -> String
    /// `list table FAMILY NAME` as stateless libnftables JSON, or nil when there is no such table:
    /// what an apply reads instead of the whole ruleset, at a cost that grows with that table only.
    func listTable(family: String, name: String) throws(NftablesError) -> String?
    /// `list tables` as libnftables JSON: names and handles, no contents, so cheap at any size.
    func listTables() throws(NftablesError) -> String
    /// The handle of table FAMILY NAME, 0 when there is no such table.
    func tableHandle(family: String, name: String) throws(NftablesError) -> Int
    /// The kernel's ruleset generation (NFT_MSG_GETGEN): every commit to any table, by anyone,
    /// increments it. Nil when it cannot be read.
    func generation() -> UInt32?
    /// The network namespace's cookie (SO_NETNS_COOKIE), never reused within a boot; nil when the
    /// kernel cannot say (before Linux 5.14).
    func namespaceCookie() -> UInt64?
}

extension NftablesBackend {
    /// From the whole listing, for backends (test doubles) without a cheaper way.
    public func listTable(family: String, name: String) throws(NftablesError) -> String? {
        let text = try listRuleset(json: true, stateless: true)
        guard let items = (try? JSONValue.parse(text))?["nftables"]?.array else { return nil }
        let mine = items.filter { item in
            guard let kind = item.soleKey else { return false }
            guard let body = item[kind], body["family"]?.string == family else { return kind == "metainfo" }
            return kind == "table" ? body["name"]?.string == name : body["table"]?.string == name
        }
        guard mine.contains(where: { $0["table"] != nil }) else { return nil }
        return JSONValue.object([("nftables", .array(mine))]).compact
    }

    public func listTables() throws(NftablesError) -> String {
        let text = try listRuleset(json: true, stateless: true)
        let items = (try? JSONValue.parse(text))?["nftables"]?.array ?? []
        return JSONValue.object([("nftables", .array(items.filter { $0["table"] != nil || $0["metainfo"] != nil }))]).compact
    }

    public func generation() -> UInt32? { nil }

    public func namespaceCookie() -> UInt64? { nil }

    public func tableHandle(family: String, name: String) throws(NftablesError) -> Int {
        try tableHandleFromListing(family: family, name: name)
    }

    /// The table's handle as `list tables` shows it, 0 when it is not listed.
    public func tableHandleFromListing(family: String, name: String) throws(NftablesError) -> Int {
        let text = try listTables()
        guard let listing = try? JSONValue.parse(text) else {
            throw NftablesError(kind: .rejected, message: "cannot read the list of tables: not JSON")
        }
        let tables = listing["nftables"]?.array ?? []
        let table = tables.compactMap { $0["table"] }.first { $0["family"]?.string == family && $0["name"]?.string == name }
        return table?["handle"]?.int ?? 0
    }
}

extension NftablesBackend {
    /// The live ruleset, parsed.
    public func liveRuleset() throws(NftablesError) -> LiveRuleset {
        let text = try listRuleset(json: true, stateless: false)
        do {
            return try LiveRuleset(json: text)
        } catch {
            throw NftablesError(kind: .rejected, message: "cannot read the ruleset listing: \(error)")
        }
    }
}
