import Foundation

/// Where the repository and the built binaries are, for tests that run portctl as a process.
public enum TestPaths {
    /// The repository root, found from this file's location.
    public static let repository: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The directory that holds the built products (next to the .xctest bundle).
    public static var products: URL {
        if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
            return bundle.bundleURL.deletingLastPathComponent()
        }
        return Bundle.main.bundleURL
    }

    public static func binary(_ name: String) -> URL { products.appendingPathComponent(name) }

    /// A root with no /proc, /etc or /run: the --port80 check finds nothing there.
    public static let emptyRoot = "/nonexistent-portctl-test-root"

    /// A portctl command line for a test: `plan` and `apply` get `--conflict-root` with the empty
    /// root (unless the test gives its own), so the port-80 rule does not depend on the web
    /// servers of the machine the tests run on.
    public static func testArguments(_ arguments: [String]) -> [String] {
        guard let command = arguments.first, ["plan", "apply"].contains(command), !arguments.contains("--conflict-root") else {
            return arguments
        }
        return arguments + ["--conflict-root", emptyRoot]
    }

    /// The same for a full command line whose first word is the portctl binary.
    public static func testCommandLine(_ words: [String]) -> [String] {
        guard let first = words.first, first.hasSuffix("/portctl") else { return words }
        return [first] + testArguments(Array(words.dropFirst()))
    }
}

/// A loopback TCP port nothing listens on: bound, noted, and closed again.
public func freeLoopbackPort() -> Int {
    let (descriptor, port) = boundLoopbackSocket(SOCK_STREAM)
    close(descriptor)
    return port
}

/// A socket of `type` bound to 127.0.0.1 on a port the kernel chose, and that port; the caller
/// closes it.
public func boundLoopbackSocket(_ type: __socket_type) -> (descriptor: Int32, port: Int) {
    let descriptor = socket(AF_INET, Int32(type.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
}

/// What a finished process printed and how it exited.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

/// Runs a program to completion with a time limit; standard input is empty unless given.
@discardableResult
public func runProcess(
    _ executable: String, _ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil,
    currentDirectory: URL? = nil, timeout: TimeInterval = 60
) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    if let currentDirectory { process.currentDirectoryURL = currentDirectory }
    let outPipe = Pipe()
    let errPipe = Pipe()
    let inPipe = Pipe()
    process.standardOutput = outPipe
    process.standardError = errPipe
    process.standardInput = inPipe
    try process.run()
    if let stdin { inPipe.fileHandleForWriting.write(Data(stdin.utf8)) }
    try inPipe.fileHandleForWriting.close()
    // Read both pipes concurrently so a chatty child never blocks on a full pipe.
    let group = DispatchGroup()
    nonisolated(unsafe) var outData = Data()
    nonisolated(unsafe) var errData = Data()
    group.enter()
    DispatchQueue.global().async {
        outData = outPipe.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    group.enter()
    DispatchQueue.global().async {
        errData = errPipe.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    if group.wait(timeout: .now() + timeout) == .timedOut {
        process.terminate()
        group.wait()
    }
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs the built portctl.
@discardableResult
public func portctl(_ arguments: [String], stdin: String? = nil, environment: [String: String]? = nil) throws -> ProcessResult {
    // A fixed HOME keeps the admin's own ~/.config/portctl/profiles out of the tests, and an empty
    // conflict root (testArguments) keeps the machine's own web servers out of the --port80 check.
    var env = environment ?? ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"]
    if env["HOME"] == nil { env["HOME"] = "/nonexistent" }
    return try runProcess(TestPaths.binary("portctl").path, TestPaths.testArguments(arguments), stdin: stdin, environment: env)
}

/// Commands that change the firewall or the state directory when they succeed.
public let changingCommands: Set<String> = ["apply", "remove", "rollback", "confirm"]

/// Runs the built portctl where a command that should be refused could do no harm if it were
/// accepted: as root, in a network namespace and a mount namespace of its own, with a fresh tmpfs
/// over /var/lib (the default state directory) and a scratch working directory. Unit-level tests
/// that feed bad values to `apply`, `remove`, `rollback` or `confirm` use it, so a regression
/// that accepts one can never change this machine's firewall or state. Without root, portctl
/// cannot change nftables anyway, and it runs as `portctl(_:)` does.
@discardableResult
public func portctlIsolated(_ arguments: [String]) throws -> ProcessResult {
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-isolated-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let environment = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"]
    let arguments = TestPaths.testArguments(arguments)
    guard getuid() == 0, let unshare = SystemTestGate.find("unshare") else {
        return try runProcess(TestPaths.binary("portctl").path, arguments, environment: environment, currentDirectory: scratch)
    }
    return try runProcess(
        unshare,
        [
            "--net", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", "mount -t tmpfs tmpfs /var/lib && exec \"$0\" \"$@\"",
            TestPaths.binary("portctl").path,
        ]
            + arguments,
        environment: environment, currentDirectory: scratch)
}

/// The facts system tests need about the machine; each skip says which one is missing.
public enum SystemTestGate {
    public static var isRoot: Bool { getuid() == 0 }

    public static var enabled: Bool { ProcessInfo.processInfo.environment["PORTCTL_SYSTEM_TESTS"] == "1" }

    public static func find(_ tool: String) -> String? {
        for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"] {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Why system tests cannot run here, or nil when they can.
    public static func reasonToSkip(needing tools: [String] = ["unshare", "nft"]) -> String? {
        if !enabled { return "system tests are off: set PORTCTL_SYSTEM_TESTS=1 (scripts/test does, as root)" }
        if !isRoot { return "system tests need root to create network namespaces" }
        for tool in tools where find(tool) == nil { return "\(tool) is not installed (scripts/test installs it)" }
        return nil
    }
}

/// Runs a shell script inside a fresh network namespace of its own (`unshare --net`), so nothing
/// it does reaches the host's firewall. The namespace disappears when the script ends.
@discardableResult
public func inFreshNetworkNamespace(_ script: String, timeout: TimeInterval = 60) throws -> ProcessResult {
    try runProcess(
        SystemTestGate.find("unshare")!, ["--net", "--", "/bin/sh", "-ec", script],
        environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"], timeout: timeout)
}
