import ArgumentParser
import HostInspection
import PortModel
import PortPlanning
import PortProfiles

/// Where profiles come from: the bundled ones, the admin's directories and `--profile-dir`.
public struct ProfileSourceOptions: ParsableArguments {
    public init() {}

    @Option(
        name: .customLong("profile-dir"),
        help: ArgumentHelp(
            "Also read profiles from DIR; its profiles override bundled ones of the same name (repeatable).", valueName: "dir"))
    public var profileDirs: [String] = []

    @Flag(help: "Treat profile warnings (such as overlapping openings) as errors.")
    public var strict = false

    public var inputs: PlanInputs {
        var inputs = PlanInputs(profiles: [])
        inputs.profileDirs = profileDirs
        inputs.strict = strict
        return inputs
    }

    public func catalog(in context: CommandContext) throws(CommandFailure) -> ProfileCatalog {
        try inputs.catalog(environment: context.environment)
    }

    /// Loads one profile by name, turning every problem into a `CommandFailure`; warnings are printed.
    public func load(_ name: String, from catalog: ProfileCatalog, in context: CommandContext) throws(CommandFailure) -> Profile {
        var warnings: [Diagnostic] = []
        let profile = try inputs.load(name, from: catalog, warnings: &warnings)
        warnings.forEach(context.diagnostic)
        return profile
    }
}

/// The profiles a plan combines, and its flags: what `plan`, `apply` and `probe` share.
public struct PlanOptions: ParsableArguments {
    public init() {}

    @Argument(help: ArgumentHelp("Profiles to combine, e.g. dss rtmp (optional with --config).", valueName: "profile"))
    public var profiles: [String] = []

    @OptionGroup public var flags: PlanFlags

    public var noSSHGuard: Bool { flags.noSSHGuard }

    public func request(detectedSSH: [PortNumber] = [], in context: CommandContext) throws(CommandFailure) -> PlanRequest {
        try flags.request(profiles: profiles, detectedSSH: detectedSSH, in: context)
    }
}

/// Options, source sets and the SSH guard: the flags that shape a plan.
public struct PlanFlags: ParsableArguments {
    public init() {}

    @Flag(name: .customLong("port80"), help: "Turn on each profile's port-80 option (RTSP, RTMPT or MMSH over HTTP on port 80).")
    public var port80 = false

    @Option(name: .customLong("with"), help: ArgumentHelp("Turn on a profile option, e.g. --with tls (repeatable).", valueName: "option"))
    public var options: [String] = []

    @Option(
        name: .customLong("admin-from"),
        help: ArgumentHelp(
            "Allow admin ports from this address or CIDR (repeatable, comma-separated, or @FILE). Without it they stay on loopback.",
            valueName: "cidr"))
    public var adminFrom: [String] = []

    @Option(
        name: .customLong("broadcaster"),
        help: ArgumentHelp(
            "Allow broadcast ports from this encoder address or CIDR (repeatable, comma-separated, or @FILE). Without it they stay closed.",
            valueName: "cidr"))
    public var broadcasters: [String] = []

    @Option(
        name: .customLong("source-set"),
        help: ArgumentHelp(
            "Fill a source set a profile declares, e.g. --source-set publishers=203.0.113.0/24 (repeatable).", valueName: "name=cidr[,cidr]"
        ))
    public var sources: [String] = []

    @Flag(help: "Open admin and broadcast ports that have no declared sources to everyone. Think twice.")
    public var world = false

    @Option(
        name: .customLong("ssh-port"), parsing: .unconditionalSingleValue,
        help: ArgumentHelp("TCP port the SSH guard keeps open (repeatable; default 22).", valueName: "port"))
    public var sshPorts: [String] = []

    @Flag(name: .customLong("no-ssh-guard"), help: "Do not add the SSH guard to the standalone ruleset.")
    public var noSSHGuard = false

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "Follow this server configuration file (mediamtx.yml, nginx.conf, icecast.xml, streamingserver.xml, VHost.xml, srs.conf): open exactly what it listens on (repeatable, one server each).",
            valueName: "file"))
    public var configs: [String] = []

    @Flag(help: "With --port80: go ahead although a web server holds port 80 or will claim it at boot (recorded in the history).")
    public var force = false

    @OptionGroup public var profileSource: ProfileSourceOptions

    /// Where the port-80 rule reads /proc, /etc and /run: `/`, or a fixture tree for tests that must
    /// not depend on the web servers of the machine they run on.
    @Option(name: .customLong("conflict-root"), help: .hidden)
    public var conflictRoot = "/"

    /// The flag values as `PlanInputs`, which checks them.
    public var inputs: PlanInputs {
        PlanInputs(
            profiles: [], port80: port80, options: options, adminFrom: adminFrom, broadcasters: broadcasters, sources: sources,
            world: world, sshPorts: sshPorts, noSSHGuard: noSSHGuard, profileDirs: profileSource.profileDirs, strict: profileSource.strict,
            configs: configs)
    }

    /// Checks every flag value and loads the profiles, printing profile warnings. `detectedSSH`
    /// (from the host, for apply) joins the SSH guard; without it the guard defaults to 22.
    public func request(profiles: [String], detectedSSH: [PortNumber] = [], in context: CommandContext) throws(CommandFailure)
        -> PlanRequest
    {
        var inputs = inputs
        inputs.profiles = profiles
        let (request, warnings) = try inputs.build(detectedSSH: detectedSSH, environment: context.environment)
        warnings.forEach(context.diagnostic)
        return request
    }

    /// The port-80 rule (`Port80Gate`): refuses with status 2 while a web server holds port 80 or
    /// will claim it at boot, unless --force; then returns the warning to show.
    public func checkPort80(_ plan: Plan) throws(CommandFailure) -> String? {
        switch Port80Gate.check(plan, force: force, root: conflictRoot) {
        case .clear: return nil
        case .forced(let warning): return warning
        case .refused(let advice):
            let flag = plan.options.contains("port80") ? "--port80" : "--config"
            throw CommandFailure(.conflict, "\(flag): \(advice); or add --force to go ahead anyway")
        }
    }
}
