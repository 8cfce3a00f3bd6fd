import Foundation

import PortModel
import PortPlanning
import PlanRendering

#if canImport(Glibc)
import Glibc
#endif

/// Fault injection at the steps a safety promise depends on: the order of the pending record,
/// the journal, the kernel commit and the watchdog. Tests (and `scripts/fault-loop`) set
/// `PORTCTL_FAULT` to kill or delay the process at a named step, or make a step fail:
///
///     PORTCTL_FAULT='apply.committed=kill'
///     PORTCTL_FAULT='apply.pending-written=delay:300,watchdog.locked=delay:50'
///     PORTCTL_FAULT='apply.finalize=fail'
///
/// Unset, every point is a no-op costing one dictionary lookup. The steps are listed in portctl(8),
/// ENVIRONMENT.
public enum Fault {
    public enum Action: Sendable, Equatable {
        case kill
        case delay(milliseconds: Int)
        case fail
    }

    /// The faults asked for, by step.
    static let plan: [String: Action] = parse(ProcessInfo.processInfo.environment["PORTCTL_FAULT"] ?? "")

    public static func parse(_ text: String) -> [String: Action] {
        var result: [String: Action] = [:]
        for item in text.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
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

    /// With `PORTCTL_FAULT_ONCE=PATH`, a fault fires only in the first process to reach it (the
    /// one that creates PATH), so one fault kills one process, not also the watchdog it started.
    static let oncePath = ProcessInfo.processInfo.environment["PORTCTL_FAULT_ONCE"]

    static func claim() -> Bool {
        guard let oncePath else { return true }
        let descriptor = open(oncePath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        close(descriptor)
        return true
    }

    /// A step was reached: kill this process with SIGKILL, or sleep, as asked.
    public static func point(_ step: String) {
        guard let action = plan[step], action != .fail, claim() else { return }
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
    public static func shouldFail(_ step: String) -> Bool {
        guard let action = plan[step] else { return false }
        if action == .fail { return claim() }
        point(step)
        return false
    }
}
