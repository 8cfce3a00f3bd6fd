import FoundationEssentials
import PortModel

#if canImport(Glibc)
    import Glibc
#endif

/// Fault injection at the steps a safety promise depends on: the order of the pending record,
/// the journal, the kernel commit and the watchdog. Tests (and `scripts/fault-loop`) give the
/// hidden option `--fault STEP=ACTION[,STEP=ACTION]` to kill or delay the process at a named step,
/// or make a step fail:
///
///     --fault apply.committed=kill
///     --fault apply.pending-written=delay:300,watchdog.locked=delay:50
///     --fault apply.finalize=fail
///
/// With `--fault-once PATH`, a fault fires only in the first process to reach it (the one that
/// creates PATH), so one fault kills one process, not also the watchdog it started. The plan
/// travels with the state store, and `apply` hands it to its watchdog. Without one, every point
/// is a no-op. The steps are listed in portctl(8), TESTING HOOKS.
public struct FaultPlan: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        case kill
        case delay(milliseconds: Int)
        case fail
    }

    public static let none = FaultPlan()

    /// The faults asked for, by step.
    public let actions: [String: Action]
    public let oncePath: String?
    /// The specification as given, to hand on to another process.
    public let specification: String

    public init(_ specification: String = "", oncePath: String? = nil) {
        self.specification = specification
        self.actions = Self.parse(specification)
        self.oncePath = oncePath
    }

    public static func parse(_ text: String) -> [String: Action] {
        var result: [String: Action] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces() }
            guard parts.count == 2 else { continue }
            if parts[1] == "kill" {
                result[parts[0]] = .kill
            } else if parts[1] == "fail" {
                result[parts[0]] = .fail
            } else if parts[1].hasPrefix("delay:"), let milliseconds = Int(parts[1].dropFirst(6)), (0...600_000).contains(milliseconds) {
                result[parts[0]] = .delay(milliseconds: milliseconds)
            }
        }
        return result
    }

    /// The command-line arguments that carry this plan to another portctl process.
    public var arguments: [String] {
        guard !specification.isEmpty else { return [] }
        return ["--fault", specification] + (oncePath.map { ["--fault-once", $0] } ?? [])
    }

    func claim() -> Bool {
        guard let oncePath else { return true }
        let descriptor = open(oncePath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        close(descriptor)
        return true
    }

    /// A step was reached: kill this process with SIGKILL, or sleep, as asked.
    public func point(_ step: String) {
        guard let action = actions[step], action != .fail, claim() else { return }
        switch action {
        case .kill:
            kill(getpid(), SIGKILL)
            // SIGKILL cannot be caught; this is never reached.
            while true { pause() }
        case .delay(let milliseconds):
            usleep(UInt32(milliseconds) * 1000)
        case .fail:
            return
        }
    }

    /// Whether a step that can fail should fail now (`STEP=fail`); a kill or delay there happens too.
    public func shouldFail(_ step: String) -> Bool {
        guard let action = actions[step] else { return false }
        if action == .fail { return claim() }
        point(step)
        return false
    }
}
