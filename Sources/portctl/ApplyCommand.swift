import ArgumentParser
import Foundation
import Shared

/// `portctl apply`: one atomic, checked nftables transaction, with an optional confirm-or-rollback timer.
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a plan to nftables in one checked, atomic transaction.",
        discussion: """
            Builds the same plan as 'portctl plan', checks it with libnftables' dry-run mode, shows \
            what changes against the last generation portctl applied, and applies it as one \
            transaction that replaces only portctl's own objects. If the kernel rejects it, nothing \
            changes. Applying the same plan again writes nothing and says "no change".

            Standalone (default): table inet portctl with an input chain at policy drop, a baseline \
            and the SSH guard (sshd's ports from its configuration and sockets, and this session's). \
            Attach: a chain 'portctl' in a table you already have, and one jump from your input chain.

            With --confirm SECONDS, the change rolls back by itself unless confirmed in time, with \
            'portctl confirm' from any shell or 'y' at the prompt. The rollback runs in a separate \
            process, so it happens even if this terminal dies.

            EXAMPLES:
              portctl apply dss --admin-from 192.0.2.0/24 --dry-run
              portctl apply dss --port80 --confirm 60
              portctl apply dss --attach 'inet filter input'
              portctl apply dss rtmp --persist
            """
    )

    @OptionGroup var plan: PlanOptions
    @OptionGroup var state: StateOptions

    @Option(help: ArgumentHelp("Attach to an existing input chain instead of portctl's own table, e.g. 'inet filter input'.", valueName: "family table chain"))
    var attach: String?

    @Flag(name: .customLong("dry-run"), help: "Check the change with the kernel and show it, but do not apply it.")
    var dryRun = false

    @Option(help: ArgumentHelp("Roll back unless confirmed within this many seconds.", valueName: "seconds"))
    var confirm: Int?

    @Flag(help: "Also restore this generation at boot (see contrib/portctl-restore.service).")
    var persist = false

    @Flag(
        name: .customLong("no-check"),
        help: "Skip the separate dry-run check (it costs one kernel round of about 12 ms). The commit is still atomic.")
    var noCheck = false

    @Flag(help: "Print the outcome as JSON.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print only the outcome line.")
    var quiet = false

    func validate() throws {
        if let confirm, !(1...3600).contains(confirm) {
            throw ValidationError("--confirm: \(confirm) is out of range (1-3600 seconds)")
        }
        if dryRun, confirm != nil { throw ValidationError("--confirm cannot be combined with --dry-run") }
    }

    func run() throws {
        try Console.guarded {
            let placement: Placement = try attach.map { text throws(CommandFailure) in try Placement(attach: text) } ?? .standalone(table: RulesetBuilder.defaultTable)
            let environment = ProcessInfo.processInfo.environment
            let ssh = plan.noSSHGuard ? SSHFacts(sources: [], session: nil) : SSHFacts.detect(environment: environment)
            let request = try plan.request(detectedSSH: ssh.ports)
            let result = Planner.plan(request)
            let forced = try plan.flags.checkPort80(result)
            if let forced { Console.warning(forced) }
            if !quiet { result.warnings.forEach { Console.warning($0.message) } }

            let lock = try state.lock()
            if let pending = state.store.pending() {
                lock.release()
                throw CommandFailure(.busy, "busy: generation \(pending.generation) awaits confirmation; run 'portctl confirm' or 'portctl rollback' first")
            }
            let session = SSHFacts.parseSession(environment["SSH_CONNECTION"] ?? "")
            let options = ApplyOptions(
                placement: placement, dryRun: dryRun, persist: persist, forced: forced != nil, command: CommandLine.arguments, session: session,
                skipCheck: noCheck)
            let outcome: ApplyOutcome
            do throws(ApplyFailure) {
                outcome = try state.applier().apply(result, options: options)
            } catch {
                lock.release()
                throw error.commandFailure
            }
            switch outcome {
            case .dryRun(let diff):
                lock.release()
                report(diff: diff, line: "dry run: the kernel accepts this change; nothing was applied", generation: nil, event: "dry-run")
            case .noChange(let generation):
                lock.release()
                report(diff: [], line: "no change: generation \(generation) is live and matches the plan", generation: generation, event: "no-change")
            case .applied(let generation, let previous, let diff):
                guard let confirm else {
                    lock.release()
                    report(diff: diff, line: "applied generation \(generation) (\(placement))", generation: generation, event: "applied")
                    return
                }
                let deadline = Date().addingTimeInterval(Double(confirm))
                let token = UUID().uuidString
                do {
                    let watchdog = try Detached.spawn(
                        Detached.selfExecutable, ["_watchdog", "--state-dir", state.stateDirectory, "--token", token])
                    try state.store.setPending(
                        StateStore.Pending(generation: generation, restore: previous, deadline: deadline.timeIntervalSince1970, token: token, watchdog: watchdog))
                } catch {
                    // Without a watchdog there is no safe timer: undo now.
                    try? state.applier().restore(to: previous, event: "rollback", detail: "confirm timer could not start: \(error)")
                    lock.release()
                    throw CommandFailure(.cannotCreate, "could not start the rollback timer (\(error)); generation \(generation) was rolled back")
                }
                lock.release()
                report(diff: diff, line: "applied generation \(generation) (\(placement)); it rolls back in \(confirm)s unless confirmed", generation: generation, event: "pending")
                try ConfirmWait(store: state.store, token: token, deadline: deadline, generation: generation, applier: state.applier(), wait: state.wait).run()
            }
        }
    }

    func report(diff: [String], line: String, generation: Int?, event: String) {
        if json {
            Console.out(JSONValue.object([
                ("outcome", .string(event)), ("generation", generation.map { .int($0) } ?? .null),
                ("diff", .array(diff.map { .string($0) })), ("message", .string(line)),
            ]).pretty)
            return
        }
        if !quiet, !diff.isEmpty { Console.out(diff.joined(separator: "\n") + "\n") }
        Console.out(line + "\n")
    }
}

/// Waits for a pending change to be confirmed: at the prompt when there is a terminal, or by
/// `portctl confirm` from any shell. The watchdog process rolls back at the deadline either way.
struct ConfirmWait {
    let store: StateStore
    let token: String
    let deadline: Date
    let generation: Int
    let applier: Applier
    let wait: Double

    func run() throws(CommandFailure) {
        let interactive = isatty(0) == 1
        if interactive {
            Console.out("Keep this change? Type y and Enter to confirm, n to roll back now: ")
        }
        while Date() < deadline {
            guard let pending = store.pending(), pending.token == token else { return try finish() }
            if interactive, let answer = readAnswer(timeoutMilliseconds: 100) {
                if answer == "y" || answer == "yes" {
                    try confirmNow()
                    return
                }
                if answer == "n" || answer == "no" {
                    try rollbackNow()
                    throw CommandFailure(.rolledBack, "rolled back generation \(generation) as asked")
                }
                Console.out("Type y or n: ")
            } else if !interactive {
                usleep(100_000)
            }
        }
        // The watchdog rolls back at the deadline; wait for it to finish, briefly.
        let limit = Date().addingTimeInterval(15)
        while Date() < limit, store.pending()?.token == token { usleep(100_000) }
        try finish()
    }

    /// The wait ended elsewhere: `portctl confirm`, `portctl rollback`, or the watchdog.
    func finish() throws(CommandFailure) {
        let last = store.history().last { ["confirm", "rollback", "auto-rollback", "remove"].contains($0.event) }
        if last?.event == "confirm" {
            Console.out("confirmed generation \(generation)\n")
            return
        }
        if last?.event == "auto-rollback" {
            throw CommandFailure(.rolledBack, "not confirmed in time: generation \(generation) was rolled back")
        }
        throw CommandFailure(.rolledBack, "generation \(generation) was rolled back (\(last?.event ?? "by another portctl"))")
    }

    func confirmNow() throws(CommandFailure) {
        let lock = try lockStore()
        defer { lock.release() }
        guard let pending = store.pending(), pending.token == token else { return }
        try? store.setPending(nil)
        try? store.record("confirm", generation: generation, detail: "at the prompt")
        kill(pending.watchdog, SIGTERM)
        Console.out("confirmed generation \(generation)\n")
    }

    func rollbackNow() throws(CommandFailure) {
        let lock = try lockStore()
        defer { lock.release() }
        guard let pending = store.pending(), pending.token == token else { return }
        do {
            try applier.restore(to: pending.restore, event: "rollback", detail: "declined at the prompt")
        } catch {
            throw error.commandFailure
        }
        try? store.setPending(nil)
        kill(pending.watchdog, SIGTERM)
    }

    func lockStore() throws(CommandFailure) -> StateStore.Lock {
        do { return try store.lock(wait: wait) } catch { throw CommandFailure(.busy, error.description) }
    }

    func readAnswer(timeoutMilliseconds: Int32) -> String? {
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, timeoutMilliseconds) > 0 else { return nil }
        guard let line = readLine() else {
            usleep(UInt32(timeoutMilliseconds) * 1000)
            return nil
        }
        return line.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
