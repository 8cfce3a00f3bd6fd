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

/// Where profiles come from: the bundled ones, the admin's directories and `--profile-dir`.
struct ProfileSourceOptions: ParsableArguments {
    @Option(
        name: .customLong("profile-dir"),
        help: ArgumentHelp("Also read profiles from DIR; its profiles override bundled ones of the same name (repeatable).", valueName: "dir"))
    var profileDirs: [String] = []

    @Flag(help: "Treat profile warnings (such as overlapping openings) as errors.")
    var strict = false

    var inputs: PlanInputs {
        var inputs = PlanInputs(profiles: [])
        inputs.profileDirs = profileDirs
        inputs.strict = strict
        return inputs
    }

    func catalog() throws(CommandFailure) -> ProfileCatalog { try inputs.catalog() }

    /// Loads one profile by name, turning every problem into a `CommandFailure`; warnings are printed.
    func load(_ name: String, from catalog: ProfileCatalog) throws(CommandFailure) -> Profile {
        var warnings: [Diagnostic] = []
        let profile = try inputs.load(name, from: catalog, warnings: &warnings)
        warnings.forEach(Console.diagnostic)
        return profile
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
        name: .customLong("source-set"),
        help: ArgumentHelp("Fill a source set a profile declares, e.g. --source-set publishers=203.0.113.0/24 (repeatable).", valueName: "name=cidr[,cidr]"))
    var sources: [String] = []

    @Flag(help: "Open admin and broadcast ports that have no declared sources to everyone. Think twice.")
    var world = false

    @Option(name: .customLong("ssh-port"), parsing: .unconditionalSingleValue, help: ArgumentHelp("TCP port the SSH guard keeps open (repeatable; default 22).", valueName: "port"))
    var sshPorts: [String] = []

    @Flag(name: .customLong("no-ssh-guard"), help: "Do not add the SSH guard to the standalone ruleset.")
    var noSSHGuard = false

    @Flag(help: "With --port80: go ahead although a web server holds port 80 or will claim it at boot (recorded in the history).")
    var force = false

    @OptionGroup var profileSource: ProfileSourceOptions

    /// Checks every flag value and loads the profiles; any problem is a `CommandFailure` naming the flag or file.
    /// `detectedSSH` (from the host, for apply) joins the SSH guard; without it the guard defaults to 22.
    var inputs: PlanInputs {
        PlanInputs(
            profiles: [], port80: port80, options: options, adminFrom: adminFrom, broadcasters: broadcasters, sources: sources,
            world: world, sshPorts: sshPorts, noSSHGuard: noSSHGuard, profileDirs: profileSource.profileDirs, strict: profileSource.strict)
    }

    /// Checks every flag value and loads the profiles, printing profile warnings.
    func request(profiles: [String], detectedSSH: [PortNumber] = []) throws(CommandFailure) -> PlanRequest {
        var inputs = inputs
        inputs.profiles = profiles
        let (request, warnings) = try inputs.build(detectedSSH: detectedSSH)
        warnings.forEach(Console.diagnostic)
        return request
    }
}

extension PlanFlags {
    /// With the port-80 option on, refuses while a web server holds port 80 or will claim it at boot,
    /// unless --force. Returns the warning to show when --force overrode a refusal.
    func checkPort80(_ plan: Plan) throws(CommandFailure) -> String? {
        guard plan.options.contains("port80") else { return nil }
        let http = PortSpec(PortRange(single: try! PortNumber(80)), .tcp)
        let needing = plan.inboundEntries.filter { $0.transport == .tcp && $0.range.contains(port: 80) }
        // PORTCTL_CONFLICT_ROOT reads /proc, /etc and /run under another root, as `conflicts --root`
        // does: for chroots, and for tests that must not depend on the web servers of the machine.
        let root = ProcessInfo.processInfo.environment["PORTCTL_CONFLICT_ROOT"] ?? "/"
        let report = ConflictReport.check(
            [(http, needing.flatMap(\.labels), needing.flatMap { $0.contributions.map(\.service) })],
            profiles: plan.profiles.map(\.name), root: root)
        guard let row = report.rows.first, row.isConflict, row.webServer != nil, let advice = row.advice else { return nil }
        if force { return "--force: going ahead although \(advice)" }
        throw CommandFailure(.conflict, "--port80: \(advice); or add --force to go ahead anyway")
    }
}
