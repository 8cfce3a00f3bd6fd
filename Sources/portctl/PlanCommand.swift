import ArgumentParser
import CommandSupport
import FirewallState
import HostInspection
import KnockAuth
import NftablesKernel
import PlanRendering
import PortModel
import PortPlanning
import PortProbe
import PortProfiles
import StreamWire

/// `portctl plan`: which ports to open, and why, in the format the admin's firewall uses.
struct PlanCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the ports a streaming deployment needs, and why.",
        discussion: """
            Combines profiles and options into one plan: overlapping and adjacent ranges are merged \
            per transport and source, and every port keeps the profile and opening that asked for it. \
            Admin ports are open to loopback until --admin-from names who may administer; broadcast \
            ranges stay closed until --broadcaster names the encoders. Warnings go to standard error.

            FORMATS:
              table      port, transport, direction, source, purpose, profile (default)
              json       portctl's plan schema (portctl.plan version 1, see portctl(8))
              nft        an nftables script that replaces table inet portctl and nothing else
              nft-json   the same ruleset as libnftables JSON
              firewalld  a firewalld service definition (XML)
              ufw        ufw application profiles (INI)
              iptables   iptables-restore and ip6tables-restore input for chain PORTCTL

            EXAMPLES:
              portctl plan dss
              portctl plan dss rtmp --port80 --admin-from 192.0.2.0/24 --broadcaster 198.51.100.7
              portctl plan dss --format nft | nft -c -f -
              portctl plan mediamtx --with api --admin-from 10.0.0.0/8 --format firewalld
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case table, json, nft
        case nftJSON = "nft-json"
        case firewalld, ufw, iptables
    }

    enum FamilyChoice: String, ExpressibleByArgument, CaseIterable {
        case ipv4, ipv6
    }

    @OptionGroup var plan: PlanOptions

    @Option(help: ArgumentHelp("Output format: \(Format.allCases.map(\.rawValue).joined(separator: ", ")).", valueName: "format"))
    var format: Format = .table

    @Flag(help: "Same as --format json.")
    var json = false

    @Option(
        name: .customLong("ip-family"),
        help: ArgumentHelp("With --format iptables, print only this family: ipv4 or ipv6.", valueName: "family"))
    var ipFamily: FamilyChoice?

    @Flag(name: .shortAndLong, help: "Do not print warnings.")
    var quiet = false

    func run(in context: CommandContext) throws {
        let request = try plan.request(in: context)
        let result = Planner.plan(request)
        if let forced = try plan.flags.checkPort80(result) { context.warning(forced) }
        if !quiet { for warning in result.warnings { context.warning(warning.message) } }
        let chosen = PlanFormat(rawValue: (json ? Format.json : format).rawValue)!
        if let why = chosen.unsupported(result) { throw CommandFailure.flag("--format", why) }
        context.out(chosen.render(result, family: ipFamily.map { $0 == .ipv4 ? .ipv4 : .ipv6 }))
    }
}
