import Foundation

/// A server and a client network namespace joined by a veth pair, made for one test and
/// deleted afterwards. Addresses are TEST-NET-1 (192.0.2.0/24) and exist only inside them:
/// server 192.0.2.1, client 192.0.2.2, and a second client address 192.0.2.3. With `ipv6`, also
/// the documentation prefix 2001:db8::/64: server 2001:db8::1, client 2001:db8::2, usable at once
/// (`nodad`).
public final class NamespacePair: @unchecked Sendable {
    public static let serverAddress = "192.0.2.1"
    public static let clientAddress = "192.0.2.2"
    public static let otherClientAddress = "192.0.2.3"
    public static let serverAddress6 = "2001:db8::1"
    public static let clientAddress6 = "2001:db8::2"

    /// Why IPv6 cannot be used here (the kernel has it off), or nil.
    public static var reasonWithoutIPv6: String? {
        FileManager.default.fileExists(atPath: "/proc/net/if_inet6") ? nil : "IPv6 is not available on this kernel (no /proc/net/if_inet6)"
    }

    public let server: String
    public let client: String
    private var processes: [Process] = []

    public init(ipv6: Bool = false) throws {
        let tag = "\(getpid())-\(UInt32.random(in: 0..<UInt32.max) % 100_000)"
        server = "pcs-\(tag)"
        client = "pcc-\(tag)"
        let ip = SystemTestGate.find("ip")!
        let script = """
            set -e
            \(ip) netns add \(server)
            \(ip) netns add \(client)
            \(ip) link add vs\(tag.suffix(8)) netns \(server) type veth peer name vc\(tag.suffix(8)) netns \(client)
            \(ip) -n \(server) addr add \(Self.serverAddress)/24 dev vs\(tag.suffix(8))
            \(ip) -n \(client) addr add \(Self.clientAddress)/24 dev vc\(tag.suffix(8))
            \(ip) -n \(client) addr add \(Self.otherClientAddress)/24 dev vc\(tag.suffix(8))
            \(ip) -n \(server) link set lo up
            \(ip) -n \(client) link set lo up
            \(ip) -n \(server) link set vs\(tag.suffix(8)) up
            \(ip) -n \(client) link set vc\(tag.suffix(8)) up
            """
            + (ipv6
                ? """

                \(ip) -n \(server) addr add \(Self.serverAddress6)/64 dev vs\(tag.suffix(8)) nodad
                \(ip) -n \(client) addr add \(Self.clientAddress6)/64 dev vc\(tag.suffix(8)) nodad
                """ : "")
        let result = try runProcess("/bin/sh", ["-c", script], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        guard result.status == 0 else {
            destroy()
            throw NSError(
                domain: "netns", code: Int(result.status),
                userInfo: [NSLocalizedDescriptionKey: "cannot create namespaces: \(result.stderr)"])
        }
    }

    /// Runs a program inside a namespace and waits for it.
    @discardableResult
    public func run(in namespace: String, _ arguments: [String], environment: [String: String] = [:], timeout: TimeInterval = 60) throws
        -> ProcessResult
    {
        var env = ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/nonexistent", "LANG": "C.UTF-8"]
        let arguments = TestPaths.testCommandLine(arguments)
        env.merge(environment) { $1 }
        return try runProcess(SystemTestGate.find("ip")!, ["netns", "exec", namespace] + arguments, environment: env, timeout: timeout)
    }

    /// Starts a long-running program in a namespace; it is killed, by PID, when the pair is destroyed.
    /// Its standard error goes to `stderr` when given, else nowhere.
    public func start(in namespace: String, _ arguments: [String], waitForLine: String? = nil, stderr: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: SystemTestGate.find("ip")!)
        process.arguments = ["netns", "exec", namespace] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        if let stderr {
            _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
            process.standardError = try FileHandle(forWritingTo: stderr)
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        processes.append(process)
        if let waitForLine {
            let handle = pipe.fileHandleForReading
            var seen = Data()
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, !String(decoding: seen, as: UTF8.self).contains(waitForLine) {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                seen.append(chunk)
            }
        }
        return process
    }

    public func destroy() {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        processes.removeAll()
        let ip = SystemTestGate.find("ip") ?? "/usr/sbin/ip"
        _ = try? runProcess(ip, ["netns", "del", server])
        _ = try? runProcess(ip, ["netns", "del", client])
    }

    deinit { destroy() }
}
