import Foundation

/// A program started in the background inside a namespace, with its output gathered while it
/// runs. The test that starts one stops it with `stop()` (by PID), or it is killed on deinit.
public final class Launched: @unchecked Sendable {
    public let process: Process
    private let lock = NSLock()
    private var collected = Data()
    private let group = DispatchGroup()
    /// With `input`, the write end of the program's standard input, held open until it stops.
    private var input: Pipe?

    /// Runs `arguments` in network namespace `namespace` (`ip netns exec`), or directly when nil.
    /// With `input`, that text is written to its standard input, which then stays open.
    public init(in namespace: String?, _ arguments: [String], environment: [String: String] = [:], input text: String? = nil) throws {
        process = Process()
        var env = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"]
        let arguments = TestPaths.testCommandLine(arguments)
        env.merge(environment) { $1 }
        process.environment = env
        if let namespace {
            process.executableURL = URL(fileURLWithPath: SystemTestGate.find("ip")!)
            process.arguments = ["netns", "exec", namespace] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        if let text {
            let stdin = Pipe()
            process.standardInput = stdin
            input = stdin
            try process.run()
            stdin.fileHandleForWriting.write(Data(text.utf8))
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        group.enter()
        DispatchQueue.global().async { [self] in
            let handle = pipe.fileHandleForReading
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock { collected.append(chunk) }
            }
            group.leave()
        }
    }

    /// Standard output and error so far (all of it once the process has exited and `wait` returned).
    public func output() -> String { lock.withLock { String(decoding: collected, as: UTF8.self) } }

    /// Waits for the process to exit, at most `timeout` seconds (then kills it); its exit status.
    @discardableResult
    public func wait(timeout: TimeInterval = 60) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { stop() }
        process.waitUntilExit()
        _ = group.wait(timeout: .now() + 5)
        return process.terminationStatus
    }

    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? input?.fileHandleForWriting.close()
        input = nil
    }

    deinit { stop() }
}
