import PortModel

/// What the admin asked for: profiles, options and who the named source sets are.
public struct PlanRequest: Sendable {
    public var profiles: [Profile]
    /// Options turned on (`port80`, `tls`), by name.
    public var options: Set<String>
    /// Members of named source sets: `admins`, `broadcasters`, or a set a profile declares.
    public var sourceSets: [String: [CIDR]]
    /// Opens source sets left empty to everyone instead of keeping them closed (or on loopback).
    public var world: Bool
    /// TCP ports accepted before anything else so that the admin's SSH session survives; empty disables the guard.
    public var sshPorts: [PortNumber]

    public init(
        profiles: [Profile], options: Set<String> = [], sourceSets: [String: [CIDR]] = [:], world: Bool = false,
        sshPorts: [PortNumber] = [PortNumber.ssh]
    ) {
        self.profiles = profiles
        self.options = options
        self.sourceSets = sourceSets
        self.world = world
        self.sshPorts = sshPorts
    }
}

extension PortNumber {
    /// The default SSH port, kept open by the SSH guard.
    public static let ssh = try! PortNumber(22)
    /// HTTP, where tunnelled RTSP, RTMPT and MMSH meet web servers.
    public static let http = try! PortNumber(80)
}
