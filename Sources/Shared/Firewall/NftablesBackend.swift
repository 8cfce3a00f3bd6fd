/// Why libnftables refused a command.
public struct NftablesError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// Not root, or no CAP_NET_ADMIN.
        case permission
        /// The kernel or the parser rejected the batch; nothing was committed.
        case rejected
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
/// `LibNftablesBackend` is the real one; `RecordingBackend` is a fake for unit tests.
public protocol NftablesBackend: AnyObject, Sendable {
    /// Runs a libnftables JSON batch as one transaction. With `check`, the kernel validates it
    /// (libnftables' dry-run mode) and nothing is committed.
    func run(_ batch: JSONValue, check: Bool) throws(NftablesError)
    /// `list ruleset`, as libnftables JSON or as nft text; `stateless` leaves counters out.
    func listRuleset(json: Bool, stateless: Bool) throws(NftablesError) -> String
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

/// A fake backend that records every batch and keeps a scripted ruleset listing.
public final class RecordingBackend: NftablesBackend, @unchecked Sendable {
    public struct Call: Sendable, Hashable {
        public let batch: JSONValue
        public let check: Bool
    }

    public private(set) var calls: [Call] = []
    /// What `listRuleset` returns; tests set it to simulate the kernel's state.
    public var listingJSON = #"{"nftables": [{"metainfo": {"json_schema_version": 1}}]}"#
    public var listingText = ""
    /// Decides whether the "kernel" refuses a batch: return an error to refuse it.
    public var refuse: (@Sendable (JSONValue, _ check: Bool) -> NftablesError?)?

    public init() {}

    public var commits: [JSONValue] { calls.filter { !$0.check }.map(\.batch) }
    public var checks: [JSONValue] { calls.filter(\.check).map(\.batch) }

    public func run(_ batch: JSONValue, check: Bool) throws(NftablesError) {
        calls.append(Call(batch: batch, check: check))
        if let error = refuse?(batch, check) { throw error }
    }

    public func listRuleset(json: Bool, stateless: Bool) throws(NftablesError) -> String {
        json ? listingJSON : listingText
    }
}

/// A test hook: wraps a backend so that every commit (not the dry-run check) carries one extra
/// command the kernel must refuse. The CLI uses it only when PORTCTL_TEST_FAULT=reject-commit,
/// so system tests can prove that a refused batch leaves the ruleset byte-identical.
public final class RejectingCommitBackend: NftablesBackend, @unchecked Sendable {
    let inner: any NftablesBackend

    public init(wrapping inner: any NftablesBackend) {
        self.inner = inner
    }

    public func run(_ batch: JSONValue, check: Bool) throws(NftablesError) {
        guard !check, let commands = batch["nftables"]?.array else { return try inner.run(batch, check: check) }
        let impossible = JSONValue.object([("add", .object([("rule", .object([
            ("family", .string("inet")), ("table", .string("portctl-test-fault")), ("chain", .string("missing")),
            ("expr", .array([.object([("accept", .null)])])),
        ]))]))])
        try inner.run(.object([("nftables", .array(commands + [impossible]))]), check: false)
    }

    public func listRuleset(json: Bool, stateless: Bool) throws(NftablesError) -> String {
        try inner.listRuleset(json: json, stateless: stateless)
    }
}
