import FirewallState
import PortModel

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
    /// The "kernel's" ruleset generation, when a test wants one: each accepted commit increments it.
    public var kernelGeneration: UInt32?
    /// How many times the ruleset (or a table) was listed.
    public private(set) var listings = 0
    /// Decides whether the "kernel" refuses a batch: return an error to refuse it.
    public var refuse: (@Sendable (JSONValue, _ check: Bool) -> NftablesError?)?

    public init() {}

    public var commits: [JSONValue] { calls.filter { !$0.check }.map(\.batch) }
    public var checks: [JSONValue] { calls.filter(\.check).map(\.batch) }

    public func run(_ batch: JSONValue, check: Bool) throws(NftablesError) {
        calls.append(Call(batch: batch, check: check))
        if let error = refuse?(batch, check) { throw error }
        if !check, let generation = kernelGeneration { kernelGeneration = generation + 1 }
    }

    public func listRuleset(json: Bool, stateless: Bool) throws(NftablesError) -> String {
        listings += 1
        return json ? listingJSON : listingText
    }

    public func generation() -> UInt32? { kernelGeneration }

    public func namespaceCookie() -> UInt64? { kernelGeneration == nil ? nil : 4242 }
}
