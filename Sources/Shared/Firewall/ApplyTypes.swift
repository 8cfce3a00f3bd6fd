import FoundationEssentials
import PlanRendering
import PortModel
import PortPlanning

#if canImport(Glibc)
    import Glibc
#endif

/// How an apply should behave.
public struct ApplyOptions: Sendable {
    public var placement: Placement
    public var dryRun: Bool
    public var persist: Bool
    /// Set when the admin overrode a refusal (`--force`); recorded in the history.
    public var forced: Bool
    public var command: [String]
    /// The SSH session portctl runs in, if any: an apply must not cut it off.
    public var session: SSHSession?
    /// `--confirm`: the pending record written (with the journal, before the commit) for the
    /// watchdog that is already running and waiting for it.
    public var confirmation: Confirmation?

    public init(
        placement: Placement, dryRun: Bool = false, persist: Bool = false, forced: Bool = false, command: [String] = [],
        session: SSHSession? = nil, confirmation: Confirmation? = nil
    ) {
        self.placement = placement
        self.dryRun = dryRun
        self.persist = persist
        self.forced = forced
        self.command = command
        self.session = session
        self.confirmation = confirmation
    }
}

/// The rollback timer of an `apply --confirm`: its token, deadline and process.
public struct Confirmation: Sendable, Hashable {
    public let token: String
    /// Seconds since 1970.
    public let deadline: Double
    public let watchdog: Int32

    public init(token: String, deadline: Double, watchdog: Int32) {
        self.token = token
        self.deadline = deadline
        self.watchdog = watchdog
    }
}

/// What an apply did.
public enum ApplyOutcome: Sendable {
    /// `--dry-run`: checked by the kernel, not committed.
    /// `changes`: whether a real apply would change the ruleset (false for the same plan over an
    /// unchanged kernel, even when `diff`, against the recorded text, is empty either way).
    case dryRun(diff: [String], changes: Bool)
    /// The live rules already match the plan; nothing was written.
    case noChange(generation: Int)
    case applied(generation: Int, previous: Int, diff: [String])
}

/// Why an apply, rollback or remove did not happen. In every case but `.stranded` the live
/// ruleset is as it was before.
public enum ApplyFailure: Error, Sendable, CustomStringConvertible {
    case permission(String)
    /// libnftables or the kernel refused the batch; `offending` is the first command that fails.
    case rejected(message: String, offending: String?)
    case lockout(String)
    /// The state could not be written; nothing changed.
    case state(String)
    case usage(String)
    case busy(String)
    /// The kernel holds a change whose state could not be saved, and undoing it failed too.
    case stranded(String)
    /// libnftables could not be loaded; nothing was sent to the kernel.
    case unavailable(String)

    /// What a failed libnftables call means for a command: `permission` is what to say when it
    /// was a lack of privilege.
    public static func from(_ error: NftablesError, permission: String) -> ApplyFailure {
        switch error.kind {
        case .permission: return .permission(permission)
        case .unavailable: return .unavailable(error.message)
        case .rejected: return .rejected(message: error.message, offending: nil)
        }
    }

    public var description: String {
        switch self {
        case .permission(let message): return message
        case .rejected(let message, let offending):
            return "the kernel rejected the change, and nothing was changed: \(message)"
                + (offending.map { "\nfirst failing command: \($0)" } ?? "")
        case .lockout(let message), .state(let message), .usage(let message), .busy(let message), .stranded(let message),
            .unavailable(let message):
            return message
        }
    }
}
