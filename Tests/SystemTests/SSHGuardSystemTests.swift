import Foundation
import TestSupport
import XCTest

/// The SSH guard against a real kernel: an SSH server that renamed its process and listens on a
/// port no configuration names is still kept open, and an established session survives an apply.
final class SSHGuardSystemTests: XCTestCase {
    var pair: NamespacePair!
    var directory: URL!
    var processes: [Launched] = []
    let scripts = TestPaths.repository.appendingPathComponent("Tests/SystemTests/Scripts")

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft", "python3"]) { throw XCTSkip(reason) }
        pair = try NamespacePair()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-ssh-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        for process in processes { process.stop() }
        for process in processes { process.wait(timeout: 5) }
        pair?.destroy()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    /// A copy of the Python interpreter named `name`, so the process's executable has that name.
    func interpreter(named name: String) throws -> String {
        let python = URL(fileURLWithPath: SystemTestGate.find("python3")!).resolvingSymlinksInPath()
        let copy = directory.appendingPathComponent(name)
        try FileManager.default.copyItem(at: python, to: copy)
        return copy.path
    }

    func startServer(executable: String, comm: String, port: Int) throws {
        let server = try Launched(in: pair.server, [executable, scripts.appendingPathComponent("fake_sshd.py").path, comm, String(port)])
        processes.append(server)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !server.output().contains("ready") { usleep(50_000) }
        XCTAssertTrue(server.output().contains("ready"), server.output())
    }

    func guardLine() throws -> String {
        let listing = try pair.run(in: pair.server, ["nft", "list", "table", "inet", "portctl"]).stdout
        return listing.split(separator: "\n").first { $0.contains("portctl ssh guard") }.map(String.init) ?? ""
    }

    func testAnSSHServerIsFoundByItsExecutableWhateverItCallsItself() throws {
        try startServer(executable: try interpreter(named: "sshd"), comm: "worker", port: 2222)
        // A control: the same program under another name is no SSH server.
        try startServer(executable: try interpreter(named: "notssh"), comm: "sshd-lookalike", port: 2223)
        let state = directory.appendingPathComponent("state").path
        let apply = try pair.run(in: pair.server, [TestPaths.binary("portctl").path, "apply", "dss", "-q", "--state-dir", state])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        let line = try guardLine()
        XCTAssertTrue(line.contains("2222"), "sshd renamed to 'worker' on 2222 is kept open: \(line)")
        XCTAssertFalse(line.contains("2223"), "a program that is not sshd is not: \(line)")
    }

    /// The admin's session to an sshd that renamed itself, on a port no configuration names, with
    /// SSH_CONNECTION unset (a root shell from `su`): the guard finds the server by its executable,
    /// so the session survives. (On a host where conntrack was not active before the first apply,
    /// the baseline's established/related rule alone does not keep it: conntrack picks the
    /// connection up mid-stream as new. The guard is what keeps it.)
    func testAnEstablishedSessionSurvivesTheApply() throws {
        try startServer(executable: try interpreter(named: "sshd"), comm: "worker", port: 2222)
        let session = try Launched(
            in: pair.client, ["python3", scripts.appendingPathComponent("session.py").path, NamespacePair.serverAddress, "2222", "2"])
        processes.append(session)
        let connected = Date().addingTimeInterval(10)
        while Date() < connected, !session.output().contains("connected") { usleep(50_000) }
        XCTAssertTrue(session.output().contains("connected"), session.output())
        let state = directory.appendingPathComponent("state").path
        let apply = try pair.run(in: pair.server, [TestPaths.binary("portctl").path, "apply", "dss", "-q", "--state-dir", state])
        XCTAssertEqual(apply.status, 0, apply.stderr)
        XCTAssertEqual(session.wait(timeout: 20), 0)
        XCTAssertTrue(session.output().contains("reply echo ping"), "the established session survived: \(session.output())")
    }
}
