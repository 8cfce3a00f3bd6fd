import PortModel
import PortPlanning

/// The formats `portctl plan` prints a plan in.
public enum PlanFormat: String, Sendable, CaseIterable {
    case table, json, nft
    case nftJSON = "nft-json"
    case firewalld, ufw, iptables

    /// Renders `plan`; `family` limits the iptables output to one IP family.
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
