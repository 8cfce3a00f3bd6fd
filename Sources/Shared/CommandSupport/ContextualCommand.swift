import ArgumentParser
import PortModel

/// A command that runs on a `CommandContext` rather than on the process's globals.
public protocol ContextualCommand: ParsableCommand {
    func run(in context: CommandContext) throws
}

/// Parses a command line and runs the command it names on a context; what the real `main` and the
/// in-process tests both call. Returns the exit status, having written every message to the
/// context's streams: a `CommandFailure` as its diagnostics and `NAME: error:` lines, the
/// argument parser's own errors, help and version as it words them.
public enum CommandRunner {
    public static func run<Root: ParsableCommand>(_ root: Root.Type, arguments: [String], in context: CommandContext) -> Int32 {
        var command: ParsableCommand
        do {
            command = try root.parseAsRoot(arguments)
        } catch {
            return parserError(error, root: root, in: context)
        }
        do {
            if let contextual = command as? any ContextualCommand {
                try contextual.run(in: context)
            } else {
                try command.run()
            }
            return 0
        } catch let failure as CommandFailure {
            report(failure, in: context)
            return failure.status.rawValue
        } catch let code as ExitCode {
            return code.rawValue
        } catch let error as ValidationError {
            return parserError(error, root: root, in: context)
        } catch let error as CleanExit {
            return parserError(error, root: root, in: context)
        } catch {
            // Nothing the command foresaw: a bug (portctl(8), EXIT STATUS 70).
            context.error("internal error: \(error); please report it")
            return ExitStatus.software.rawValue
        }
    }

    /// The argument parser's own errors, help and version, worded as it words them.
    static func parserError<Root: ParsableCommand>(_ error: any Error, root: Root.Type, in context: CommandContext) -> Int32 {
        let status = root.exitCode(for: error)
        let message = root.fullMessage(for: error)
        if !message.isEmpty {
            let stream = status == .success ? context.output : context.errors
            stream.write(message.hasSuffix("\n") ? message : message + "\n")
        }
        return status.rawValue
    }

    /// A failure's diagnostics, then its lines as errors.
    public static func report(_ failure: CommandFailure, in context: CommandContext) {
        failure.diagnostics.forEach(context.diagnostic)
        for line in failure.lines where !line.isEmpty { context.error(line) }
    }
}
