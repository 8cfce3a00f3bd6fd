import FirewallState
import Foundation
import PortModel
import TestSupport
import XCTest

/// The fixture of the apply system tests: a server and a client namespace over a veth pair, the
/// server's firewall set by portctl, real packets from the client. Nothing touches the host.
class ApplyNamespaceTestCase: XCTestCase {
    var pair: NamespacePair!
    var stateDirectory: String!
    let scripts = TestPaths.repository.appendingPathComponent("Tests/SystemTests/Scripts")
    let server = NamespacePair.serverAddress

    override func setUpWithError() throws {
        if let reason = SystemTestGate.reasonToSkip(needing: ["ip", "nft", "python3"]) { throw XCTSkip(reason) }
        pair = try NamespacePair()
        stateDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-state-\(UUID().uuidString)").path
    }

    override func tearDown() {
        pair?.destroy()
        if let stateDirectory { try? FileManager.default.removeItem(atPath: stateDirectory) }
    }

    @discardableResult
    func portctl(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
        try pair.run(
            in: pair.server, [TestPaths.binary("portctl").path] + arguments + ["--state-dir", stateDirectory], environment: environment)
    }

    func ruleset(stateless: Bool = true) throws -> String {
        try pair.run(in: pair.server, ["nft"] + (stateless ? ["-s"] : []) + ["list", "ruleset"]).stdout
    }

    func listen(_ ports: [String]) throws {
        _ = try pair.start(
            in: pair.server, ["python3", scripts.appendingPathComponent("listen.py").path, "0.0.0.0"] + ports, waitForLine: "ready")
    }

    /// Verdicts from the client namespace, by port spec.
    func reach(_ ports: [String], from source: String = NamespacePair.clientAddress) throws -> [String: String] {
        let result = try pair.run(
            in: pair.client, ["python3", scripts.appendingPathComponent("reach.py").path, "--source", source, server] + ports)
        var verdicts: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 { verdicts[String(parts[0])] = String(parts[1]) }
        }
        return verdicts
    }
}
