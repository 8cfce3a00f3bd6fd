import ArgumentParser
import Foundation
import Shared

/// `portctl confirm`: keep a change applied with --confirm.
struct ConfirmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "confirm",
        abstract: "Keep the change that 'apply --confirm' is waiting on.",
        discussion: "Works from any shell. Exits 1 when nothing awaits confirmation.\n\nEXAMPLE:\n  portctl confirm")

    @OptionGroup var state: StateOptions

    func run() throws {
        try Console.guarded {
            let lock = try state.lock()
            defer { lock.release() }
            guard let pending = state.store.pending() else {
                throw CommandFailure(.checkFailed, "nothing awaits confirmation")
            }
            // The history first: a waiting `apply --confirm` reads it as soon as the pending
            // change disappears, and must find the confirmation there (a race CI once caught).
            try? state.store.record("confirm", generation: pending.generation, detail: "portctl confirm")
            try? state.store.setPending(nil)
            kill(pending.watchdog, SIGTERM)
            Console.out("confirmed generation \(pending.generation)\n")
        }
    }
}

/// The hidden rollback timer behind `apply --confirm`. It runs in its own session, so it outlives
/// the apply's terminal, and rolls back at the deadline unless the pending change was confirmed.
struct WatchdogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_watchdog", abstract: "Internal: the rollback timer of apply --confirm.", shouldDisplay: false)

    @Option(name: .customLong("state-dir")) var stateDirectory: String
    @Option var token: String

    func run() throws {
        let store = StateStore(directory: stateDirectory)
        while true {
            guard let pending = store.pending(), pending.token == token else { return }
            if Date().timeIntervalSince1970 >= pending.deadline { break }
            usleep(100_000)
        }
        guard let lock = try? store.lock(wait: 60) else { throw ExitCode(ExitStatus.busy.rawValue) }
        defer { lock.release() }
        guard let pending = store.pending(), pending.token == token else { return }
        let applier = Applier(backend: LibNftablesBackend(), store: store)
        do {
            try applier.restore(to: pending.restore, event: "auto-rollback", detail: "generation \(pending.generation) was not confirmed in time")
        } catch {
            try? store.record("auto-rollback-failed", generation: pending.generation, detail: error.description)
        }
        try? store.setPending(nil)
    }
}

/// `portctl rollback`: go back to the previous generation, or to a given one.
struct RollbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollback",
        abstract: "Restore the previous generation, or generation N with --to.",
        discussion: """
            Without --to, restores what was live before the current generation (nothing, if it was \
            the first). While 'apply --confirm' waits, rollback declines the change at once.

            EXAMPLES:
              portctl rollback
              portctl rollback --to 3
            """)

    @OptionGroup var state: StateOptions
    @Option(help: ArgumentHelp("The generation to restore (see portctl history).", valueName: "n")) var to: Int?

    func run() throws {
        try Console.guarded {
            let lock = try state.lock()
            defer { lock.release() }
            let store = state.store
            let applier = state.applier()
            do {
                if let pending = store.pending(), to == nil {
                    try applier.restore(to: pending.restore, event: "rollback", detail: "declined generation \(pending.generation)")
                    try? store.setPending(nil)
                    kill(pending.watchdog, SIGTERM)
                    Console.out("rolled back generation \(pending.generation)\n")
                    return
                }
                let current = store.current()
                let target = to ?? (current > 0 ? store.meta(current)?.previous ?? 0 : -1)
                guard target >= 0 else { throw CommandFailure(.checkFailed, "nothing to roll back: portctl has nothing applied") }
                if target == current { Console.out("generation \(target) is already live\n"); return }
                try? store.setPending(nil)
                try applier.restore(to: target, event: "rollback")
                Console.out(target == 0 ? "rolled back: portctl's rules are removed\n" : "rolled back to generation \(target)\n")
            } catch let failure as ApplyFailure {
                throw failure.commandFailure
            }
        }
    }
}

/// `portctl remove`: take out portctl's table (or its attached chain, sets and jump), nothing else.
struct RemoveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove",
        abstract: "Remove portctl's rules: its table, or its attached chain, sets and jump.",
        discussion: "Nothing else in the ruleset is touched. The history keeps the removed generation.\n\nEXAMPLE:\n  portctl remove")

    @OptionGroup var state: StateOptions

    func run() throws {
        try Console.guarded {
            let lock = try state.lock()
            defer { lock.release() }
            guard state.store.current() > 0 else {
                if state.store.isPersisted {
                    try? state.store.setPersisted(nil)
                    Console.out("nothing applied; removed the stale boot copy (persist.json)\n")
                } else {
                    Console.out("nothing to remove: portctl has nothing applied\n")
                }
                return
            }
            do throws(ApplyFailure) {
                try state.applier().restore(to: 0, event: "remove")
            } catch {
                throw error.commandFailure
            }
            try? state.store.setPending(nil)
            Console.out("removed portctl's rules\n")
        }
    }
}

/// `portctl history`: generations and what happened to them.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history", abstract: "List what portctl applied, rolled back and removed.",
        discussion: "EXAMPLES:\n  portctl history\n  portctl history --json")

    @OptionGroup var state: StateDirectoryOption
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let store = state.store
        let events = store.history()
        if json {
            Console.out(JSONValue.object([
                ("current", .int(store.current())),
                ("events", .array(events.map { event in
                    .object([("time", .string(event.time)), ("event", .string(event.event)), ("generation", .int(event.generation)), ("detail", .string(event.detail))])
                })),
            ]).pretty)
            return
        }
        var rows = [["TIME", "EVENT", "GEN", "DETAIL"]]
        for event in events { rows.append([event.time, event.event, String(event.generation), event.detail]) }
        Console.out(PlanTable.layout(rows))
        Console.out("current generation: \(store.current())\n")
    }
}
