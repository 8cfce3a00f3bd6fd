import FoundationEssentials
import HostInspection
import PortModel
import PortPlanning
import PortProfiles

/// The raw values of the plan flags, as a command line gave them, turned into a `PlanRequest`.
///
/// Both `portctl` and `streamd` declare the same flags; the checking lives here once. Every bad
/// value becomes a `CommandFailure` that names the flag and the value and says what is valid.
public struct PlanInputs: Sendable {
    public var profiles: [String]
    public var port80 = false
    public var options: [String] = []
    public var adminFrom: [String] = []
    public var broadcasters: [String] = []
    public var sources: [String] = []
    public var world = false
    public var sshPorts: [String] = []
    public var noSSHGuard = false
    public var profileDirs: [String] = []
    public var strict = false
    /// Server configuration files to follow (`--config`), one server each.
    public var configs: [String] = []

    public init(profiles: [String]) {
        self.profiles = profiles
    }

    /// Every plan flag at once, as a command line declares them.
    public init(
        profiles: [String], port80: Bool, options: [String], adminFrom: [String], broadcasters: [String], sources: [String],
        world: Bool, sshPorts: [String] = [], noSSHGuard: Bool = false, profileDirs: [String], strict: Bool = false,
        configs: [String] = []
    ) {
        self.configs = configs
        self.profiles = profiles
        self.port80 = port80
        self.options = options
        self.adminFrom = adminFrom
        self.broadcasters = broadcasters
        self.sources = sources
        self.world = world
        self.sshPorts = sshPorts
        self.noSSHGuard = noSSHGuard
        self.profileDirs = profileDirs
        self.strict = strict
    }

    /// The profiles there are: bundled, the admin's directories (`environment` says where home is)
    /// and --profile-dir.
    public func catalog(environment: [String: String]) throws(CommandFailure) -> ProfileCatalog {
        try Self.checkProfileDirectories(profileDirs)
        return ProfileCatalog(directories: ProfileCatalog.defaultDirectories(extra: profileDirs, environment: environment))
    }

    /// `--profile-dir` must name a directory that exists: an empty or mistyped value would
    /// otherwise read profiles from somewhere unexpected, or silently from nowhere.
    public static func checkProfileDirectories(_ directories: [String]) throws(CommandFailure) {
        for directory in directories {
            if directory.trimmingSpaces().isEmpty {
                throw .flag("--profile-dir", "'\(directory)' is empty; give a directory of profiles, e.g. /etc/portctl/profiles.d")
            }
            var isDirectory = false
            guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else {
                throw CommandFailure(.noInput, "--profile-dir: \(Shown.value(directory)) does not exist")
            }
            guard isDirectory else {
                throw .flag("--profile-dir", "\(Shown.value(directory)) is not a directory (profiles are NAME.yaml files in a directory)")
            }
        }
    }

    /// Loads one profile by name; warnings are returned for the caller to print.
    public func load(_ name: String, from catalog: ProfileCatalog, warnings: inout [Diagnostic]) throws(CommandFailure) -> Profile {
        switch catalog.load(name) {
        case .success(let (profile, diagnostics)):
            let shown = diagnostics.escalated(strict: strict)
            if shown.hasErrors {
                throw CommandFailure(.dataError, diagnostics: shown, "profile '\(name)' has warnings and --strict is on")
            }
            warnings += shown
            return profile
        case .failure(.unknown(let name, let suggestion, _)):
            let hint = suggestion.map { "; did you mean '\($0)'?" } ?? ""
            throw CommandFailure(.usage, "unknown profile '\(Shown.value(name))'\(hint) (run 'portctl profiles list' to see them all)")
        case .failure(.invalid(let name, let diagnostics)):
            throw CommandFailure(.dataError, diagnostics: diagnostics, "profile '\(name)' is invalid")
        }
    }

    /// Checks every value and loads the profiles. `detectedSSH` (from the host, for apply) joins the
    /// SSH guard; without it the guard defaults to 22.
    public func build(detectedSSH: [PortNumber] = [], environment: [String: String]) throws(CommandFailure) -> (
        PlanRequest, warnings: [Diagnostic]
    ) {
        let catalog = try catalog(environment: environment)
        var warnings: [Diagnostic] = []
        let loaded = try profiles(from: catalog, warnings: &warnings)
        let names = loaded.map(\.name).joined(separator: ", ")
        let offered = Set(loaded.flatMap { $0.options.keys })
        let offeredText =
            offered.isEmpty
            ? (loaded.count == 1 ? "it offers no options" : "they offer no options")
            : "options: \(offered.sorted().joined(separator: ", "))"

        var enabled = Set<String>()
        if port80 {
            guard offered.contains("port80") else {
                let subject = loaded.count == 1 ? "\(names) has" : "none of \(names) has"
                throw .flag("--port80", "\(subject) no port-80 option (\(offeredText))")
            }
            enabled.insert("port80")
        }
        for option in try Self.items(options, flag: "--with") {
            guard offered.contains(option) else {
                let hint = Suggestion.closest(to: option, in: Array(offered)).map { "; did you mean '\($0)'?" } ?? ""
                throw .flag("--with", "'\(Shown.value(option))' is not an option of \(names)\(hint) (\(offeredText))")
            }
            enabled.insert(option)
        }

        var sets: [String: [CIDR]] = [:]
        sets["admins"] = try Self.cidrs(adminFrom, flag: "--admin-from")
        sets["broadcasters"] = try Self.cidrs(broadcasters, flag: "--broadcaster")
        let declared = Set(loaded.flatMap { $0.sourceSets.keys } + SourceRef.builtinSets)
        for item in sources {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex else {
                throw .flag("--source-set", "'\(Shown.value(item))' must be NAME=CIDR[,CIDR...], e.g. publishers=203.0.113.0/24")
            }
            let name = String(item[..<equals])
            guard declared.contains(name) else {
                let hint = Suggestion.closest(to: name, in: Array(declared)).map { "; did you mean '\($0)'?" } ?? ""
                throw .flag(
                    "--source-set",
                    "source set '\(Shown.value(name))' is not declared by \(names)\(hint) (sets: \(declared.sorted().joined(separator: ", ")))"
                )
            }
            sets[name, default: []] += try Self.cidrs([String(item[item.index(after: equals)...])], flag: "--source-set \(name)")
        }
        sets = sets.filter { !$0.value.isEmpty }

        var ssh: [PortNumber] = []
        if noSSHGuard, !sshPorts.isEmpty {
            throw .flag("--no-ssh-guard", "cannot be combined with --ssh-port")
        }
        if !noSSHGuard {
            for text in try Self.items(sshPorts, flag: "--ssh-port") {
                do throws(ModelError) { ssh.append(try PortNumber(parsing: text)) } catch { throw .flag("--ssh-port", error.description) }
            }
            ssh += detectedSSH
            if ssh.isEmpty { ssh = [PortNumber.ssh] }
        }
        return (
            PlanRequest(profiles: loaded, options: enabled, sourceSets: sets, world: world, sshPorts: Array(Set(ssh)).sorted()), warnings
        )
    }

    public static func splitList(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map { String($0).trimmingSpaces() }
    }

    /// The items of a repeatable, comma-separated flag; an empty item (`22,`, `a,,b`, `,`) is an error.
    public static func items(_ values: [String], flag: String) throws(CommandFailure) -> [String] {
        var result: [String] = []
        for value in values {
            let parts = splitList(value)
            if parts.count > 1, parts.contains(where: \.isEmpty) {
                throw .flag(flag, "'\(Shown.value(value))' has an empty item (a stray comma); separate values with single commas, e.g. a,b")
            }
            result += parts
        }
        return result
    }

    /// Addresses from flag values: `CIDR`, `CIDR,CIDR`, or `@FILE` with one or more per line
    /// (commas or whitespace between them, `#` comments), for allow-lists too long for a command line.
    public static func cidrs(_ values: [String], flag: String) throws(CommandFailure) -> [CIDR] {
        var expanded: [String] = []
        var result: [CIDR] = []
        for value in values {
            guard value.hasPrefix("@") else {
                expanded += try items([value], flag: flag)
                continue
            }
            let path = String(value.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .flag(flag, "cannot read address file '\(Shown.value(path))'")
            }
            // Byte by byte: an allow-list may hold 100,000 networks.
            let bytes = [UInt8](data)
            var line = 1
            var index = 0
            func isSeparator(_ byte: UInt8) -> Bool {
                byte == UInt8(ascii: ",") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
                    || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "#")
            }
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\n") {
                    line += 1
                    index += 1
                } else if byte == UInt8(ascii: "#") {
                    while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
                } else if isSeparator(byte) {
                    index += 1
                } else {
                    let start = index
                    while index < bytes.count, !isSeparator(bytes[index]) { index += 1 }
                    do throws(ModelError) {
                        result.append(try CIDR(parsing: String(decoding: bytes[start..<index], as: UTF8.self)))
                    } catch {
                        throw .flag(flag, "\(path):\(line): \(error.description)")
                    }
                }
            }
        }
        for text in expanded {
            do { result.append(try CIDR(parsing: text)) } catch { throw .flag(flag, error.description) }
        }
        return result
    }
}
