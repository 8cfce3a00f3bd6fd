import FirewallState
import PlanRendering
import PortModel

/// The words of a `BlockingAdvice`: one line, which `status` prints after `hint: ` (and in its
/// JSON), and `doctor` as a `hint` check. The command lines it suggests are portctl's own.
extension BlockingAdvice {
    /// `inet firewalld/filter_INPUT drops 7070/tcp (rule 12: reject); firewalld drops it: use ...`.
    var text: String {
        let ports = self.ports.map { "\($0.spec)\($0.family.map { $0 == .ipv4 ? " (IPv4)" : " (IPv6)" } ?? "")" }.joined(separator: ", ")
        let head: String
        switch finding {
        case .drops(let why): head = "\(table)/\(chain) drops \(ports) (\(why))"
        case .mayDrop(let rule): head = "portctl cannot tell whether \(table)/\(chain) drops \(ports): check \(rule) by hand"
        }
        return "\(head); \(Self.text(fix))"
    }

    static func text(_ fix: Fix) -> String {
        switch fix {
        case .firewalldService(let profiles, let attach):
            return "firewalld drops it: use `\(plan(profiles)) --format firewalld` and add the service to the zone, or \(flag(attach))"
        case .iptablesRestore(let family, let profiles, let attach):
            let tool = family == .ipv4 ? "iptables" : "ip6tables"
            return
                "this is iptables (iptables-nft): use \(flag(attach)), or load `\(plan(profiles)) --format iptables` with \(tool)-restore --noflush and add `\(tool) -I INPUT -j \(IptablesExport.chain)`"
        case .dockerConfiguration:
            return
                "Docker manages this table and rewrites it when it restarts, so attaching portctl there does not last: allow the ports in Docker's configuration instead"
        case .attach(let attach):
            return
                "an accept in portctl's table does not cancel a drop in another table: use \(flag(attach)) to put portctl's rules in that chain, or allow the ports there"
        }
    }

    /// `portctl plan dss mp3`: the command that prints the plan again, in another format.
    static func plan(_ profiles: [String]) -> String { "portctl plan \(profiles.joined(separator: " "))" }

    /// `--attach 'inet firewalld filter_INPUT'`, as `portctl apply` takes it.
    static func flag(_ attach: AttachPoint) -> String { "--attach '\(attach.family) \(attach.table) \(attach.chain)'" }
}
