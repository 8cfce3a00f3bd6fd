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

/// Where portctl keeps its generations, and how long it waits for another portctl.
struct StateOptions: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp("Where generations and history are kept (an absolute path).", valueName: "dir"))
    var stateDirectory = StateStore.defaultDirectory

    @Option(
        parsing: .unconditional,
        help: ArgumentHelp("Seconds to wait for another portctl to finish before failing as busy (0-3600).", valueName: "seconds"))
    var wait = "10"

    /// Fault injection (portctl(8), TESTING HOOKS): STEP=ACTION[,STEP=ACTION].
    @Option(name: .customLong("fault"), help: .hidden)
    var fault = ""

    /// With --fault: the file whose creation claims the fault, so it fires in one process only.
    @Option(name: .customLong("fault-once"), help: .hidden)
    var faultOnce: String?

    /// The checks every state command makes before it does anything.
    func check() throws(CommandFailure) {
        _ = try StatePath.check(stateDirectory)
        _ = try waitSeconds
    }

    var waitSeconds: Double {
        get throws(CommandFailure) {
            guard let value = Double(wait), value.isFinite, (0...3600).contains(value) else {
                throw CommandFailure.flag("--wait", "'\(Shown.value(wait))' is not a number of seconds from 0 to 3600")
            }
            return value
        }
    }

    var faults: FaultPlan { FaultPlan(fault, oncePath: faultOnce) }

    var store: StateStore { StateStore(directory: stateDirectory, faults: faults) }

    /// Takes the lock, then settles whatever an interrupted portctl left (a journal, or a pending
    /// change whose timer is gone), printing a warning for each thing it did.
    func lock(in context: CommandContext) throws(CommandFailure) -> StateStore.Lock {
        try check()
        let lock: StateStore.Lock
        do {
            lock = try store.lock(wait: try waitSeconds)
        } catch let error as CommandFailure {
            throw error
        } catch {
            switch error as? StateStore.StoreError {
            case .busy(let message): throw CommandFailure(.busy, message)
            case .io(let message): throw CommandFailure(.cannotCreate, message)
            case nil: throw CommandFailure(.cannotCreate, "\(error)")
            }
        }
        let recovery = applier(actor: "portctl", in: context).recover { spawnWatchdog(for: $0, in: context) }
        recovery.forEach(context.warning)
        return lock
    }

    func applier(actor: String = "portctl", in context: CommandContext) -> Applier {
        var applier = Applier(backend: context.backend(), store: store)
        applier.actor = actor
        return applier
    }

    /// The arguments of a `portctl _watchdog` for the change `token`, carrying the fault plan.
    func watchdogArguments(token: String, deadline: Double) -> [String] {
        ["_watchdog", "--state-dir", stateDirectory, "--token", token, "--deadline", String(Int(deadline.rounded(.up)) + 1)]
            + faults.arguments
    }

    /// A rollback timer for a pending change whose own timer is gone, with no lifeline.
    func spawnWatchdog(for pending: StateStore.Pending, in context: CommandContext) -> Int32? {
        try? Detached.spawn(context.selfExecutable, watchdogArguments(token: pending.token, deadline: pending.deadline))
    }
}

extension ApplyFailure {
    var commandFailure: CommandFailure { CommandFailure(status, description) }

    /// The exit status each failure gets (portctl(8), EXIT STATUS).
    var status: ExitStatus {
        switch self {
        case .permission: return .noPermission
        case .rejected: return .checkFailed
        case .lockout: return .lockout
        case .state, .stranded: return .cannotCreate
        case .usage: return .usage
        case .busy: return .busy
        case .unavailable: return .unavailable
        }
    }
}

/// Only where the state lives, for commands that read it and never take the lock.
struct StateDirectoryOption: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp("Where generations and history are kept (an absolute path).", valueName: "dir"))
    var stateDirectory = StateStore.defaultDirectory

    func check() throws(CommandFailure) { _ = try StatePath.check(stateDirectory) }

    var store: StateStore { StateStore(directory: stateDirectory) }
}

/// The checks on `--state-dir`: portctl writes several files there, so a value that would put
/// them somewhere surprising (the current directory, `/`) is refused before anything is written.
enum StatePath {
    static func check(_ text: String) throws(CommandFailure) -> String {
        if text.trimmingSpaces().isEmpty {
            throw CommandFailure.flag("--state-dir", "'\(text)' is empty; give an absolute directory, e.g. \(StateStore.defaultDirectory)")
        }
        // ASCII needs no Unicode tables (their first use costs a command 0.1 ms): its controls are
        // below 0x20 and 0x7F, and it has no format characters.
        let controlled =
            text.utf8.allSatisfy { $0 < 0x80 }
            ? text.utf8.contains { $0 < 0x20 || $0 == 0x7F }
            : text.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }
        if controlled {
            throw CommandFailure.flag("--state-dir", "'\(Shown.value(text))' contains control characters")
        }
        guard text.hasPrefix("/") else {
            throw CommandFailure.flag(
                "--state-dir", "'\(Shown.value(text))' is relative; give an absolute directory, e.g. \(StateStore.defaultDirectory)")
        }
        let standardized = Path.normalized(text)
        if standardized == "/" || text.split(separator: "/").contains(where: { $0 == ".." }) {
            throw CommandFailure.flag(
                "--state-dir", "'\(Shown.value(text))' is not a directory of its own; give one such as \(StateStore.defaultDirectory)")
        }
        var isDirectory = false
        if FileManager.default.fileExists(atPath: text, isDirectory: &isDirectory), !isDirectory {
            throw CommandFailure.flag("--state-dir", "'\(Shown.value(text))' exists and is not a directory")
        }
        return text
    }
}
