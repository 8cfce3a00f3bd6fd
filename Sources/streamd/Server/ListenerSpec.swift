import PortModel
import PortPlanning

/// One port (or UDP range) streamd answers on, derived from a plan.
struct ListenerSpec: Sendable {
    let name: String
    let transport: Transport
    let range: PortRange
    let service: Service
    let labels: [String]
    /// The address to bind: the admin scope's loopback for admin ports without declared admins.
    let bindAddress: String
    /// Binds one port the kernel picks instead of the range: tests on loopback, which learn it
    /// from `StreamServer.localPorts(of:)`.
    var anyPort = false

    /// One listener per opening of the plan, on the same ports `portctl plan` shows.
    static func from(_ plan: Plan, bind: String) -> [ListenerSpec] {
        var specs: [ListenerSpec] = []
        var seen = Set<String>()
        for entry in plan.entries {
            for contribution in entry.contributions {
                let spec = contribution.spec
                for range in [spec.range] {
                    let name = "\(range)/\(spec.transport.rawValue)"
                    guard seen.insert(name).inserted else { continue }
                    let address = entry.scope == .loopback ? "127.0.0.1" : bind
                    let labels = plan.entries.filter { $0.transport == spec.transport && $0.range.overlaps(range) }.flatMap(\.labels)
                    specs.append(
                        ListenerSpec(
                            name: name, transport: spec.transport, range: range, service: contribution.service,
                            labels: Array(Set(labels)).sorted(), bindAddress: address))
                }
            }
        }
        return specs
    }
}
