import ArgumentParser
import Foundation
import Shared

/// Where profiles come from: the bundled ones, the admin's directories and `--profile-dir`.
struct ProfileSourceOptions: ParsableArguments {
    @Option(
        name: .customLong("profile-dir"),
        help: ArgumentHelp("Also read profiles from DIR; its profiles override bundled ones of the same name (repeatable).", valueName: "dir"))
    var profileDirs: [String] = []

    @Flag(help: "Treat profile warnings (such as overlapping openings) as errors.")
    var strict = false

    func catalog() -> ProfileCatalog {
        ProfileCatalog(directories: ProfileCatalog.defaultDirectories(extra: profileDirs, environment: ProcessInfo.processInfo.environment))
    }

    /// Loads one profile by name, turning every problem into a `CommandFailure`; warnings are printed.
    func load(_ name: String, from catalog: ProfileCatalog) throws(CommandFailure) -> Profile {
        switch catalog.load(name) {
        case .success(let (profile, diagnostics)):
            let shown = diagnostics.escalated(strict: strict)
            if shown.hasErrors {
                throw CommandFailure(.dataError, diagnostics: shown, "profile '\(name)' has warnings and --strict is on")
            }
            shown.forEach(Console.diagnostic)
            return profile
        case .failure(.unknown(let name, let suggestion, _)):
            let hint = suggestion.map { "; did you mean '\($0)'?" } ?? ""
            throw CommandFailure(.usage, "unknown profile '\(name)'\(hint) (run 'portctl profiles list' to see them all)")
        case .failure(.invalid(let name, let diagnostics)):
            throw CommandFailure(.dataError, diagnostics: diagnostics, "profile '\(name)' is invalid")
        }
    }
}

/// The profiles a plan combines, and its flags: what `plan`, `apply` and `streamd` share.
struct PlanOptions: ParsableArguments {
    @Argument(help: ArgumentHelp("Profiles to combine, e.g. dss rtmp.", valueName: "profile"))
    var profiles: [String]

    @OptionGroup var flags: PlanFlags

    var noSSHGuard: Bool { flags.noSSHGuard }
    var profileSource: ProfileSourceOptions {
        get { flags.profileSource }
        set { flags.profileSource = newValue }
    }

    func request(detectedSSH: [PortNumber] = []) throws(CommandFailure) -> PlanRequest {
        try flags.request(profiles: profiles, detectedSSH: detectedSSH)
    }
}

/// Options, source sets and the SSH guard: the flags that shape a plan.
struct PlanFlags: ParsableArguments {
    @Flag(name: .customLong("port80"), help: "Turn on each profile's port-80 option (RTSP, RTMPT or MMSH over HTTP on port 80).")
    var port80 = false

    @Option(name: .customLong("with"), help: ArgumentHelp("Turn on a profile option, e.g. --with tls (repeatable).", valueName: "option"))
    var options: [String] = []

    @Option(
        name: .customLong("admin-from"),
        help: ArgumentHelp("Allow admin ports from this address or CIDR (repeatable, comma-separated, or @FILE). Without it they stay on loopback.", valueName: "cidr"))
    var adminFrom: [String] = []

    @Option(
        name: .customLong("broadcaster"),
        help: ArgumentHelp("Allow broadcast ports from this encoder address or CIDR (repeatable, comma-separated, or @FILE). Without it they stay closed.", valueName: "cidr"))
    var broadcasters: [String] = []

    @Option(
        name: .customLong("source"),
        help: ArgumentHelp("Fill a source set a profile declares, e.g. --source publishers=203.0.113.0/24 (repeatable).", valueName: "name=cidr[,cidr]"))
    var sources: [String] = []

    @Flag(help: "Open admin and broadcast ports that have no declared sources to everyone. Think twice.")
    var world = false

    @Option(name: .customLong("ssh-port"), help: ArgumentHelp("TCP port the SSH guard keeps open (repeatable; default 22).", valueName: "port"))
    var sshPorts: [String] = []

    @Flag(name: .customLong("no-ssh-guard"), help: "Do not add the SSH guard to the standalone ruleset.")
    var noSSHGuard = false

    @Flag(help: "With --port80: go ahead although a web server holds port 80 or will claim it at boot (recorded in the history).")
    var force = false

    @OptionGroup var profileSource: ProfileSourceOptions

    /// Checks every flag value and loads the profiles; any problem is a `CommandFailure` naming the flag or file.
    /// `detectedSSH` (from the host, for apply) joins the SSH guard; without it the guard defaults to 22.
    func request(profiles: [String], detectedSSH: [PortNumber] = []) throws(CommandFailure) -> PlanRequest {
        let catalog = profileSource.catalog()
        var loaded: [Profile] = []
        for name in profiles where !loaded.contains(where: { $0.name == name }) {
            loaded.append(try profileSource.load(name, from: catalog))
        }
        let names = loaded.map(\.name).joined(separator: ", ")
        let offered = Set(loaded.flatMap { $0.options.keys })
        let offeredText = offered.isEmpty ? (loaded.count == 1 ? "it offers no options" : "they offer no options") : "options: \(offered.sorted().joined(separator: ", "))"

        var enabled = Set<String>()
        if port80 {
            guard offered.contains("port80") else {
                let subject = loaded.count == 1 ? "\(names) has" : "none of \(names) has"
                throw .flag("--port80", "\(subject) no port-80 option (\(offeredText))")
            }
            enabled.insert("port80")
        }
        for option in options.flatMap(Self.splitList) {
            guard offered.contains(option) else {
                let hint = Suggestion.closest(to: option, in: Array(offered)).map { "; did you mean '\($0)'?" } ?? ""
                throw .flag("--with", "'\(option)' is not an option of \(names)\(hint) (\(offeredText))")
            }
            enabled.insert(option)
        }

        var sets: [String: [CIDR]] = [:]
        sets["admins"] = try Self.cidrs(adminFrom, flag: "--admin-from")
        sets["broadcasters"] = try Self.cidrs(broadcasters, flag: "--broadcaster")
        let declared = Set(loaded.flatMap { $0.sourceSets.keys } + SourceRef.builtinSets)
        for item in sources {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw .flag("--source", "'\(item)' must be NAME=CIDR[,CIDR...], e.g. publishers=203.0.113.0/24")
            }
            let name = String(item[..<equals])
            guard declared.contains(name) else {
                let hint = Suggestion.closest(to: name, in: Array(declared)).map { "; did you mean '\($0)'?" } ?? ""
                throw .flag("--source", "source set '\(name)' is not declared by \(names)\(hint) (sets: \(declared.sorted().joined(separator: ", ")))")
            }
            sets[name, default: []] += try Self.cidrs([String(item[item.index(after: equals)...])], flag: "--source \(name)")
        }
        sets = sets.filter { !$0.value.isEmpty }

        var ssh: [PortNumber] = []
        if noSSHGuard, !sshPorts.isEmpty {
            throw .flag("--no-ssh-guard", "cannot be combined with --ssh-port")
        }
        if !noSSHGuard {
            for text in sshPorts.flatMap(Self.splitList) {
                do throws(ModelError) { ssh.append(try PortNumber(parsing: text)) } catch { throw .flag("--ssh-port", error.description) }
            }
            ssh += detectedSSH
            if ssh.isEmpty { ssh = [PortNumber.ssh] }
        }
        return PlanRequest(profiles: loaded, options: enabled, sourceSets: sets, world: world, sshPorts: Array(Set(ssh)).sorted())
    }

    static func splitList(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingCharacters(in: .whitespaces) }
    }

    /// Addresses from flag values: `CIDR`, `CIDR,CIDR`, or `@FILE` with one or more per line
    /// (commas or whitespace between them, `#` comments), for allow-lists too long for a command line.
    static func cidrs(_ values: [String], flag: String) throws(CommandFailure) -> [CIDR] {
        var expanded: [String] = []
        for value in values {
            guard value.hasPrefix("@") else {
                expanded += splitList(value)
                continue
            }
            let path = String(value.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .flag(flag, "cannot read address file '\(path)'")
            }
            for (number, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
                for word in content.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\r" }) {
                    do throws(ModelError) {
                        _ = try CIDR(parsing: String(word))
                    } catch {
                        throw .flag(flag, "\(path):\(number + 1): \(error.description)")
                    }
                    expanded.append(String(word))
                }
            }
        }
        var result: [CIDR] = []
        for text in expanded {
            do { result.append(try CIDR(parsing: text)) } catch { throw .flag(flag, error.description) }
        }
        return result
    }
}

extension PlanFlags {
    /// With the port-80 option on, refuses while a web server holds port 80 or will claim it at boot,
    /// unless --force. Returns the warning to show when --force overrode a refusal.
    func checkPort80(_ plan: Plan) throws(CommandFailure) -> String? {
        guard plan.options.contains("port80") else { return nil }
        let http = PortSpec(PortRange(single: try! PortNumber(80)), .tcp)
        let needing = plan.inboundEntries.filter { $0.transport == .tcp && $0.range.contains(port: 80) }
        let report = ConflictReport.check(
            [(http, needing.flatMap(\.labels), needing.flatMap { $0.contributions.map(\.service) })],
            profiles: plan.profiles.map(\.name))
        guard let row = report.rows.first, row.isConflict, row.webServer != nil, let advice = row.advice else { return nil }
        if force { return "--force: going ahead although \(advice)" }
        throw CommandFailure(.conflict, "--port80: \(advice); or add --force to go ahead anyway")
    }
}
