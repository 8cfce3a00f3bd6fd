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
