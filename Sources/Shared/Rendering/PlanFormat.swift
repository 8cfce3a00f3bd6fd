import PortModel
import PortPlanning

/// The formats `portctl plan` prints a plan in.
public enum PlanFormat: String, Sendable, CaseIterable {
    case table, json, nft
    case nftJSON = "nft-json"
    case firewalld, ufw, iptables

    /// Renders `plan`; `family` limits the iptables output to one IP family.
    /// Why this format cannot express `plan`, or nil when it can: a firewalld service and a ufw
    /// application profile name ports only, so an opening bound to one local address (`--config`)
    /// would open it on every address.
    public func unsupported(_ plan: Plan) -> String? {
        guard self == .firewalld || self == .ufw, let bound = plan.entries.first(where: { $0.destination != nil }) else { return nil }
        return
            "\(rawValue) cannot limit an opening to one local address (\(bound.labels.joined(separator: ", ")) listens on \(bound.destination!.addressText) only); use --format nft, nft-json or iptables"
    }

    public func render(_ plan: Plan, family: IPFamily? = nil) -> String {
        switch self {
        case .table: return PlanTable.render(plan)
        case .json: return PlanJSON.render(plan).pretty
        case .nft: return NftTextRenderer.render(RulesetBuilder.standalone(plan))
        case .nftJSON: return NftJSONRenderer.render(RulesetBuilder.standalone(plan)).pretty
        case .firewalld: return FirewalldExport.render(plan)
        case .ufw: return UfwExport.render(plan)
        case .iptables: return IptablesExport.render(plan, family: family)
        }
    }

    /// The file name extension goldens and saved outputs use.
    public var fileExtension: String {
        switch self {
        case .table: return "txt"
        case .json: return "json"
        case .nft: return "nft"
        case .nftJSON: return "nft.json"
        case .firewalld: return "firewalld.xml"
        case .ufw: return "ufw"
        case .iptables: return "iptables"
        }
    }
}
