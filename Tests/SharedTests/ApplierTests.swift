import Foundation
import TestSupport
import XCTest

@testable import CommandSupport
@testable import FirewallState
@testable import HostInspection
@testable import KnockAuth
@testable import PlanRendering
@testable import PortModel
@testable import PortPlanning
@testable import PortProbe
@testable import PortProfiles
@testable import StreamWire

/// The apply logic against the recording fake: what it sends, in which order, and when it sends nothing.
final class ApplierTests: XCTestCase {
    var directory: String!
    var backend: RecordingBackend!
    var applier: Applier!

    override func setUp() {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-applier-\(UUID().uuidString)").path
        backend = RecordingBackend()
        applier = Applier(backend: backend, store: StateStore(directory: directory))
        try? StateStore(directory: directory).prepare()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func dss(_ options: Set<String> = []) -> Plan {
        Planner.plan(PlanRequest(profiles: [Fixtures.bundled("dss")], options: options))
    }

    let standalone = Placement.standalone(table: "portctl")

    /// No separate dry run before a real apply (DESIGN.md, decision 4): one commit, one transaction.
    func testApplyCommitsOneTransactionWithoutARehearsal() throws {
        let outcome = try applier.apply(dss(), options: ApplyOptions(placement: standalone))
        guard case .applied(let generation, let previous, _) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(generation, 1)
        XCTAssertEqual(previous, 0)
        XCTAssertEqual(backend.calls.map(\.check), [false], "one commit and no dry run")
        let commands = try XCTUnwrap(backend.commits.first?["nftables"]?.array)
        XCTAssertEqual(commands[1].compact, #"{"add":{"table":{"family":"inet","name":"portctl"}}}"#)
        XCTAssertEqual(commands[2].compact, #"{"delete":{"table":{"family":"inet","name":"portctl"}}}"#)
        XCTAssertEqual(StateStore(directory: directory).current(), 1)
    }

    /// While the kernel's generation has not moved since the commit, a re-apply of the same plan
    /// reads nothing and writes nothing; once it has moved, portctl's objects are compared.
    func testAReapplyWithTheKernelUnchangedReadsAndWritesNothing() throws {
        backend.kernelGeneration = 7
        _ = try applier.apply(dss(), options: ApplyOptions(placement: standalone))
        XCTAssertEqual(backend.kernelGeneration, 8)
        let (calls, listings) = (backend.calls.count, backend.listings)
        let again = try applier.apply(dss(), options: ApplyOptions(placement: standalone))
        guard case .noChange(1) = again else { return XCTFail("\(again)") }
        XCTAssertEqual(backend.calls.count, calls, "no batch, not even a dry run")
        XCTAssertEqual(backend.listings, listings, "no listing")

        // Another program commits: the generation moves. The fake's listing has no portctl table,
        // so the objects do not match and the plan is applied again.
        backend.kernelGeneration = 20
        guard case .applied(2, 1, _) = try applier.apply(dss(), options: ApplyOptions(placement: standalone)) else {
            return XCTFail("applied again")
        }
        XCTAssertGreaterThan(backend.listings, listings, "portctl's table was read to compare")
    }

    func testDryRunNeverCommits() throws {
        let outcome = try applier.apply(dss(), options: ApplyOptions(placement: standalone, dryRun: true))
        guard case .dryRun(let diff, _) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(diff.contains { $0.hasPrefix("+ ") && $0.contains("table inet portctl {") })
        XCTAssertTrue(backend.commits.isEmpty)
        XCTAssertEqual(StateStore(directory: directory).current(), 0)
    }

    func testARefusedCommitNamesTheOffendingCommandAndRecordsNothing() {
        backend.refuse = { batch, _ in
            batch.compact.contains("6970") ? NftablesError(kind: .rejected, message: "Error: Could not process rule") : nil
        }
        XCTAssertThrowsError(try applier.apply(dss(), options: ApplyOptions(placement: standalone))) { error in
            guard case .rejected(let message, let offending) = error as? ApplyFailure else { return XCTFail("\(error)") }
            XCTAssertEqual(message, "Error: Could not process rule")
            XCTAssertTrue(offending?.contains("\"name\":\"world_ports\"") ?? false, offending ?? "nil")
            XCTAssertTrue(offending?.hasPrefix("#") ?? false)
        }
        XCTAssertEqual(backend.commits.count, 1, "the one commit, which the kernel refused; the search for the culprit runs dry")
        XCTAssertEqual(backend.calls.first?.check, false)
        XCTAssertEqual(StateStore(directory: directory).current(), 0)
    }

    func testPermissionErrorsSayToUseRoot() {
        backend.refuse = { _, _ in NftablesError(kind: .permission, message: "Operation not permitted") }
        XCTAssertThrowsError(try applier.apply(dss(), options: ApplyOptions(placement: standalone))) { error in
            guard case .permission? = error as? ApplyFailure else { return XCTFail("\(error)") }
        }
    }

    func testSessionWithoutGuardIsRefused() {
        let plan = Planner.plan(PlanRequest(profiles: [Fixtures.bundled("dss")], sshPorts: []))
        let session = SSHFacts.Session(client: "198.51.100.9", serverPort: try! PortNumber(22))
        XCTAssertThrowsError(try applier.apply(plan, options: ApplyOptions(placement: standalone, session: session))) { error in
            guard case .lockout? = error as? ApplyFailure else { return XCTFail("\(error)") }
        }
        XCTAssertTrue(backend.calls.isEmpty, "refused before anything reaches the kernel")
        // A plan that opens the session's port to the client is fine.
        let rtsp = Planner.plan(PlanRequest(profiles: [Fixtures.bundled("dss")], sshPorts: []))
        let onRTSP = SSHFacts.Session(client: "198.51.100.9", serverPort: try! PortNumber(554))
        XCTAssertNoThrow(try applier.apply(rtsp, options: ApplyOptions(placement: standalone, session: onRTSP)))
    }

    func testAttachNeedsTheAdminsTableAndChain() {
        let attach = Placement.attach(family: "inet", table: "filter", chain: "input")
        XCTAssertThrowsError(try applier.apply(dss(), options: ApplyOptions(placement: attach))) { error in
            XCTAssertEqual(
                (error as? ApplyFailure)?.description, "--attach: table inet filter does not exist; create it first, or apply standalone")
        }
        backend.listingJSON =
            #"{"nftables": [{"table": {"family": "inet", "name": "filter"}}, {"chain": {"family": "inet", "table": "filter", "name": "input", "type": "filter", "hook": "input", "prio": 0, "policy": "drop"}}]}"#
        XCTAssertNoThrow(try applier.apply(dss(), options: ApplyOptions(placement: attach)))
        let commands = backend.commits.last?["nftables"]?.array ?? []
        XCTAssertEqual(commands.last?.soleKey, "insert", "the jump goes first in the admin's chain")
        XCTAssertFalse(commands.contains { $0["add"]?["table"] != nil }, "attach never declares the admin's table")
    }

    func testRestoreToNothingRemovesOnlyPortctlsTable() throws {
        _ = try applier.apply(dss(), options: ApplyOptions(placement: standalone))
        backend.listingJSON = #"{"nftables": [{"table": {"family": "inet", "name": "portctl"}}]}"#
        try applier.restore(to: 0, event: "remove")
        let commands = backend.commits.last?["nftables"]?.array?.dropFirst().map(\.compact)
        XCTAssertEqual(
            commands,
            [
                #"{"add":{"table":{"family":"inet","name":"portctl"}}}"#, #"{"delete":{"table":{"family":"inet","name":"portctl"}}}"#,
            ])
        XCTAssertEqual(StateStore(directory: directory).current(), 0)
        XCTAssertEqual(StateStore(directory: directory).history().map(\.event), ["apply", "remove"])
    }

    func testLineDiffMarksChanges() {
        XCTAssertEqual(LineDiff.unified(old: "a\nb\nc", new: "a\nx\nc"), ["  a", "- b", "+ x", "  c"])
        XCTAssertEqual(LineDiff.unified(old: "same", new: "same"), [])
    }
}
