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

/// Where a command writes: results to standard output, diagnostics to standard error.
enum Console {
    static func out(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func error(_ line: String) {
        FileHandle.standardError.write(Data("portctl: error: \(line)\n".utf8))
    }

    static func warning(_ line: String) {
        FileHandle.standardError.write(Data("portctl: warning: \(line)\n".utf8))
    }

    /// A diagnostic already carrying its own `file:line:col: severity:` prefix.
    static func diagnostic(_ diagnostic: Diagnostic) {
        FileHandle.standardError.write(Data("\(diagnostic)\n".utf8))
    }

    /// Runs a command body; a `CommandFailure` becomes its message on stderr and its exit code.
    static func guarded(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failure as CommandFailure {
            failure.diagnostics.forEach(diagnostic)
            for line in failure.lines where !line.isEmpty { error(line) }
            throw ExitCode(failure.status.rawValue)
        }
    }
}
