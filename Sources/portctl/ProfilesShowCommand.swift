import ArgumentParser
import CommandSupport
import FirewallState
import FoundationEssentials
import HostInspection
import KnockAuth
import NftablesKernel
import PlanRendering
import PortModel
import PortPlanning
import PortProbe
import PortProfiles
import StreamWire

/// `portctl profiles show`.
struct ProfilesShowCommand: ContextualCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one profile: which file won, where its ports come from, and its openings.",
        discussion: "EXAMPLES:\n  portctl profiles show dss\n  portctl profiles show dss --json")

    @Argument(help: "The profile's name.") var name: String
    @OptionGroup var source: ProfileSourceOptions
    @Flag(help: "Print JSON.") var json = false

    func run(in context: CommandContext) throws {
        let catalog = try source.catalog(in: context)
        let profile = try source.load(name, from: catalog, in: context)
        let overridden = catalog.candidates[name]!.dropFirst().map(\.origin)
        if json {
            context.out(ProfileJSON.render(profile, overrides: overridden).pretty)
            return
        }
        var out = "\(profile.name): \(profile.title)\n"
        out += "File: \(profile.origin)\n"
        if !overridden.isEmpty { out += "Overrides: \(overridden.joined(separator: ", "))\n" }
        out += "Source: \(profile.source)\n"
        if let description = profile.description { out += "\n\(description.trimmingWhitespace())\n" }
        if !profile.options.isEmpty {
            out += "\nOptions:\n"
            for key in profile.options.keys.sorted() { out += "  \(key): \(profile.options[key]!)\n" }
        }
        var rows = [["ID", "PORTS", "SERVICE", "DIR", "FROM", "WHEN", "PURPOSE"]]
        for opening in profile.openings {
            rows.append([
                opening.id, opening.ports.map(\.description).joined(separator: ", "), opening.service.rawValue,
                opening.direction.rawValue, opening.from.name, opening.when ?? "always", opening.purpose,
            ])
        }
        out += "\n" + PlanTable.layout(rows)
        context.out(out)
    }
}
