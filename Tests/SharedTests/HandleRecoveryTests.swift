import Foundation
import TestSupport
import XCTest

@testable import FirewallState
@testable import PlanRendering
@testable import PortModel

/// Recovery of a standalone apply that read no rules before its commit (issue 13): the journal
/// holds the table's handle, the kernel's generation and the boot and namespace, and only exact
/// evidence (same place, one commit since, the table replaced) finishes it.
final class HandleRecoveryTests: SafeApplyUnitFixture {
    func journal(id: String, handle: Int, generation: UInt32, place: String?) -> StateStore.Journal {
        var journal = StateStore.Journal(
            operation: "apply", id: id, generation: 1, previous: 0, event: "apply", detail: "portctl apply dss", token: nil,
            placement: standalone.description, before: "", persist: "keep")
        journal.beforeHandle = handle
        journal.beforeGeneration = generation
        journal.beforePlace = place
        return journal
    }

    func prepare(_ journal: StateStore.Journal, tableHandle: Int?) throws {
        try store.setJournal(journal)
        _ = try store.addGeneration(
            meta: StateStore.Meta(
                generation: 1, time: "t", placement: standalone.description, profiles: ["dss"], options: [], command: [], forced: false,
                persist: false, previous: 0, fingerprint: "", declarationDigest: nil, kernelMark: "predicted"),
            declaration: [], rulesetText: "", planJSON: "{}", replaced: nil)
        let table = tableHandle.map { #", {"table": {"family": "inet", "name": "portctl", "handle": \#($0)}}"# } ?? ""
        backend.listingJSON = #"{"nftables": [{"metainfo": {"json_schema_version": 1}}\#(table)]}"#
    }

    var place: String { "\(StateStore.bootID() ?? "?") 4242" }

    func testOneCommitThatReplacedTheTableIsFinishedWithoutAMark() throws {
        backend.kernelGeneration = 11
        try prepare(journal(id: "j1", handle: 3, generation: 10, place: place), tableHandle: 9)
        XCTAssertEqual(applier.recover(), ["recorded generation 1 (apply), which an interrupted portctl had committed"])
        XCTAssertEqual(store.current(), 1)
        XCTAssertNil(store.meta(1)?.kernelMark, "recovery cannot know whose commit it saw: no fast no-op from it")
    }

    func testNoCommitSinceIsDiscarded() throws {
        backend.kernelGeneration = 10
        try prepare(journal(id: "j2", handle: 3, generation: 10, place: place), tableHandle: 9)
        XCTAssertEqual(applier.recover(), ["generation 1 was prepared by an interrupted portctl but never committed; discarded it"])
        XCTAssertEqual(store.current(), 0)
        XCTAssertEqual(store.generations(), [])
    }

    func testTheSameTableIsDiscardedWhateverElseWasCommitted() throws {
        backend.kernelGeneration = 14
        try prepare(journal(id: "j3", handle: 3, generation: 10, place: place), tableHandle: 3)
        XCTAssertEqual(applier.recover(), ["generation 1 was prepared by an interrupted portctl but never committed; discarded it"])
    }

    func testSeveralCommitsSinceAreNotTakenForOurs() throws {
        backend.kernelGeneration = 13
        try prepare(journal(id: "j4", handle: 3, generation: 10, place: place), tableHandle: 9)
        XCTAssertTrue(applier.recover().first?.contains("neither as before nor as intended") ?? false)
        XCTAssertEqual(store.current(), 0)
    }

    func testAnotherNamespaceIsNeverTakenForThisOne() throws {
        backend.kernelGeneration = 11
        try prepare(journal(id: "j5", handle: 3, generation: 10, place: "other-boot 1"), tableHandle: 9)
        XCTAssertTrue(applier.recover().first?.contains("neither as before nor as intended") ?? false)
        XCTAssertEqual(store.current(), 0)
    }

    func testAFlushedTableIsNotACommit() throws {
        backend.kernelGeneration = 11
        try prepare(journal(id: "j6", handle: 3, generation: 10, place: place), tableHandle: nil)
        XCTAssertTrue(applier.recover().first?.contains("neither as before nor as intended") ?? false)
        XCTAssertEqual(store.current(), 0)
    }
}
