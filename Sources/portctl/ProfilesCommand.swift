import ArgumentParser
import Foundation
import PortModel
import PortProfiles
import PortPlanning
import PlanRendering
import FirewallState
import NftablesKernel
import HostInspection
import PortProbe
import StreamWire
import KnockAuth
import CommandSupport

/// `portctl profiles`: list, show and check profiles.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List, show and check profiles.",
        discussion: """
            Profiles are read from --profile-dir, ~/.config/portctl/profiles, /etc/portctl/profiles.d \
            and the profiles bundled into portctl, in that order: the first file with a name wins. \
            The format is described in portctl-profile(5).
            """,
        subcommands: [List.self, Show.self, Check.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every profile portctl can see.",
            discussion: "EXAMPLES:\n  portctl profiles list\n  portctl profiles list --json")

        @OptionGroup var source: ProfileSourceOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try Console.guarded {
                let catalog = try source.catalog()
                var rows = [["NAME", "TITLE", "FILE"]]
                var items: [JSONValue] = []
                for name in catalog.names {
                    let all = catalog.candidates[name]!
                    let winner = all[0]
                    let title = winner.decode().profile?.title ?? "(invalid: run portctl profiles show \(name))"
                    let file = winner.origin + (all.count > 1 ? " (overrides \(all.dropFirst().map(\.origin).joined(separator: ", ")))" : "")
                    rows.append([name, title, file])
                    items.append(.object([
                        ("name", .string(name)), ("title", .string(title)), ("file", .string(winner.origin)),
                        ("overrides", .array(all.dropFirst().map { .string($0.origin) })),
                    ]))
                }
                Console.out(json ? JSONValue.array(items).pretty : PlanTable.layout(rows))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one profile: which file won, where its ports come from, and its openings.",
            discussion: "EXAMPLES:\n  portctl profiles show dss\n  portctl profiles show dss --json")

        @Argument(help: "The profile's name.") var name: String
        @OptionGroup var source: ProfileSourceOptions
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try Console.guarded {
                let catalog = try source.catalog()
                let profile = try source.load(name, from: catalog)
                let overridden = catalog.candidates[name]!.dropFirst().map(\.origin)
                if json {
                    Console.out(ProfileJSON.render(profile, overrides: overridden).pretty)
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
                Console.out(out)
            }
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate profile files; print file:line:column diagnostics.",
            discussion: """
                Exits 0 when every file is valid, 65 when any has an error (or a warning, with --strict), \
                66 when a file cannot be read.

                EXAMPLES:
                  portctl profiles check /etc/portctl/profiles.d/*.yaml
                  portctl profiles check --strict my-server.yaml
                """)

        @Argument(help: ArgumentHelp("Profile files to check.", valueName: "file")) var files: [String]
        @Flag(help: "Treat warnings as errors.") var strict = false
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            try Console.guarded {
                var worst = ExitStatus.ok
                var reports: [JSONValue] = []
                for file in files {
                    guard let data = FileManager.default.contents(atPath: file) else {
                        let reason = FileManager.default.fileExists(atPath: file) ? "cannot be read" : "does not exist"
                        if json {
                            reports.append(.object([("file", .string(file)), ("valid", .bool(false)), ("error", .string("\(file) \(reason)"))]))
                        } else {
                            Console.error("\(file) \(reason)")
                        }
                        worst = .noInput
                        continue
                    }
                    let result = ProfileDecoder.decode(data: Array(data), file: file)
                    let diagnostics = result.diagnostics.escalated(strict: strict)
                    let valid = !diagnostics.hasErrors
                    if !valid, worst == .ok { worst = .dataError }
                    if json {
                        reports.append(.object([
                            ("file", .string(file)), ("valid", .bool(valid)),
                            ("profile", result.profile.map { .string($0.name) } ?? .null),
                            ("diagnostics", .array(diagnostics.map(DiagnosticJSON.render))),
                        ]))
                    } else {
                        diagnostics.forEach(Console.diagnostic)
                        if valid { Console.out("\(file): ok (\(result.profile!.name), \(result.profile!.openings.count) openings)\n") }
                    }
                }
                if json { Console.out(JSONValue.array(reports).pretty) }
                if worst != .ok { throw ExitCode(worst.rawValue) }
            }
        }
    }
}
