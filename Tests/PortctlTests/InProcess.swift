import CommandSupport
import FirewallState
import Foundation
import TestSupport

@testable import portctl

/// Runs a portctl command line in this process, on a context of the test's own: its output and
/// errors are buffers, its input is empty (or the given text), its environment is a fixed one, and
/// its kernel is the recording fake, so no test here can touch this machine's firewall. It shadows
/// TestSupport's `portctl(_:)`, which runs the built binary; `binary(_:)` still does that.
func portctl(_ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil) throws -> ProcessResult {
    let (output, outputBuffer) = TextStream.buffer()
    let (errors, errorBuffer) = TextStream.buffer()
    let lines = (stdin ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let remaining = LineQueue(stdin == nil ? [] : lines)
    let input = InputStream(isTerminal: false, ready: { _ in true }, line: { remaining.next() })
    let backend = RecordingBackend()
    let context = CommandContext(
        output: output, errors: errors, input: input,
        environment: environment ?? ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"],
        arguments: ["portctl"] + arguments, selfExecutable: TestPaths.binary("portctl").path, backend: { backend }, programName: "portctl")
    let status = Portctl.run(TestPaths.testArguments(arguments), in: context)
    return ProcessResult(status: status, stdout: outputBuffer.contents, stderr: errorBuffer.contents)
}

/// Runs the built portctl binary: for the end-to-end tests that must see the real program.
func binary(_ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil) throws -> ProcessResult {
    try TestSupport.portctl(arguments, stdin: stdin, environment: environment)
}

/// Lines handed out one at a time to an in-process command's input.
final class LineQueue: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String]

    init(_ lines: [String]) { self.lines = lines }

    func next() -> String? { lock.withLock { lines.isEmpty ? nil : lines.removeFirst() } }
}
