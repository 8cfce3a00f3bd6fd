import PlanRendering
import PortModel

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
