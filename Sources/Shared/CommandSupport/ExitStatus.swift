import HostInspection
import PortModel
import PortPlanning
import PortProfiles

/// The exit codes portctl and streamd document in their man pages (sysexits(3) where one fits).
public enum ExitStatus: Int32, Sendable {
    /// Success.
    case ok = 0
    /// The operation failed: the kernel rejected a change (nothing changed), or a check failed.
    case checkFailed = 1
    /// A conflict: another program holds, or will claim at boot, a port the plan needs.
    case conflict = 2
    /// A change was rolled back because nobody confirmed it.
    case rolledBack = 3
    /// Refused: the change would cut off the admin's own SSH session.
    case lockout = 4
    /// Bad command line: an unknown flag, a bad flag value, an unknown profile.
    case usage = 64
    /// Bad data: a profile that does not validate.
    case dataError = 65
    /// A named input file does not exist or cannot be read.
    case noInput = 66
    /// A library the command needs (libnftables) cannot be loaded; nothing was changed.
    case unavailable = 69
    /// An internal error: a bug in portctl.
    case software = 70
    /// Could not write an output or state file.
    case cannotCreate = 73
    /// Busy: another portctl holds the lock, or a change awaits confirmation.
    case busy = 75
    /// Permission denied: changing nftables needs root or CAP_NET_ADMIN.
    case noPermission = 77
}

/// An error that ends a command: what to tell the admin and which exit code to use.
public struct CommandFailure: Error, Sendable, CustomStringConvertible {
    public let status: ExitStatus
    /// Diagnostics that carry their own `file:line:column: severity:` prefix, printed as they are.
    public let diagnostics: [Diagnostic]
    public let lines: [String]

    public init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.diagnostics = []
        self.lines = [message]
    }

    public init(_ status: ExitStatus, diagnostics: [Diagnostic], _ message: String) {
        self.status = status
        self.diagnostics = diagnostics
        self.lines = [message]
    }

    /// A bad flag value: names the flag and the value, and says what would be valid.
    public static func flag(_ flag: String, _ message: String) -> CommandFailure {
        CommandFailure(.usage, "\(flag): \(message)")
    }

    public var description: String { (diagnostics.map(\.description) + lines).joined(separator: "\n") }
}
