import ArgumentParser
import Foundation
import Shared

/// Where portctl keeps its generations, and how long it waits for another portctl.
struct StateOptions: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp("Where generations and history are kept.", valueName: "dir"))
    var stateDirectory = StateStore.defaultDirectory

    @Option(help: ArgumentHelp("Seconds to wait for another portctl to finish before failing as busy.", valueName: "seconds"))
    var wait: Double = 10

    var store: StateStore { StateStore(directory: stateDirectory) }

    func lock() throws(CommandFailure) -> StateStore.Lock {
        do {
            return try store.lock(wait: wait)
        } catch {
            switch error {
            case .busy(let message): throw CommandFailure(.busy, message)
            case .io(let message): throw CommandFailure(.cannotCreate, message)
            }
        }
    }

    func applier() -> Applier { Applier(backend: Self.backend(), store: store) }

    /// The real backend; PORTCTL_TEST_FAULT=reject-commit makes every commit fail (system tests only).
    static func backend() -> any NftablesBackend {
        let real = LibNftablesBackend()
        if ProcessInfo.processInfo.environment["PORTCTL_TEST_FAULT"] == "reject-commit" {
            return RejectingCommitBackend(wrapping: real)
        }
        return real
    }
}

extension ApplyFailure {
    var commandFailure: CommandFailure { CommandFailure(status, description) }
}

/// Only where the state lives, for commands that read it and never take the lock.
struct StateDirectoryOption: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp("Where generations and history are kept.", valueName: "dir"))
    var stateDirectory = StateStore.defaultDirectory

    var store: StateStore { StateStore(directory: stateDirectory) }
}
