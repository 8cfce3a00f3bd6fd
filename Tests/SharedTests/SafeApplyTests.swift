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

/// The order that makes apply safe, against the recording fake: what is on disk at the moment of
/// the commit, what a failed write changes (nothing), and how recovery settles what an interrupted
/// portctl left. The same promises are proven against a real kernel in SafeApplySystemTests.
final class SafeApplyTests: SafeApplyUnitFixture {
    /// What the state directory held when the fake kernel was asked to commit.
    final class Snapshot: @unchecked Sendable {
        var pending: StateStore.Pending?
        var journal: StateStore.Journal?
        var generationWritten = false
        var current = -1
    }

    func testPendingRecordAndJournalAreOnDiskBeforeTheCommit() throws {
        let seen = Snapshot()
        let store = self.store!
        backend.refuse = { _, check in
            if !check, seen.current < 0 {
                seen.pending = store.pending()
                seen.journal = store.journal()
                seen.generationWritten = store.declaration(1) != nil
                seen.current = store.current()
            }
            return nil
        }
        let confirmation = Confirmation(token: "token-1", deadline: Date().timeIntervalSince1970 + 60, watchdog: 0)
        let outcome = try applier.apply(dss(), options: ApplyOptions(placement: standalone, confirmation: confirmation))
        guard case .applied(let generation, _, _) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(generation, 1)
        XCTAssertEqual(seen.pending?.token, "token-1", "the watchdog's record exists before the kernel holds the change")
        XCTAssertEqual(seen.pending?.restore, 0)
        XCTAssertEqual(seen.journal?.generation, 1)
        XCTAssertEqual(seen.journal?.token, "token-1")
        XCTAssertTrue(seen.generationWritten, "the generation's files are written before the commit")
        XCTAssertEqual(seen.current, 0, "current moves only once the kernel holds the change")
        XCTAssertEqual(store.current(), 1)
        XCTAssertNil(store.journal(), "a finished change leaves no journal")
        XCTAssertEqual(store.pending()?.token, "token-1", "the pending record stays until the change is settled")
    }

    func testAStateThatCannotBeWrittenStopsTheChangeBeforeTheKernel() throws {
        // `generations` is a file, so the new generation's files cannot be written.
        try FileManager.default.removeItem(atPath: directory + "/generations")
        XCTAssertTrue(FileManager.default.createFile(atPath: directory + "/generations", contents: Data("x".utf8)))
        XCTAssertThrowsError(try applier.apply(dss(), options: ApplyOptions(placement: standalone))) { error in
            guard case .state(let message) = error as? ApplyFailure else { return XCTFail("\(error)") }
            XCTAssertTrue(
                message.hasPrefix(
                    "cannot save the state before applying, so nothing was changed: cannot create \(self.directory!)/generations/1: Not a directory"
                ), message)
        }
        XCTAssertTrue(backend.commits.isEmpty, "nothing reached the kernel")
        XCTAssertEqual(store.current(), 0)
        XCTAssertNil(store.journal())
        XCTAssertNil(store.pending())
    }

    func testAFailureAfterTheCommitUndoesIt() throws {
        // `current` is a directory, so recording the new generation fails after the commit.
        try FileManager.default.createDirectory(atPath: directory + "/current", withIntermediateDirectories: false)
        XCTAssertThrowsError(try applier.apply(dss(), options: ApplyOptions(placement: standalone))) { error in
            guard case .state(let message) = error as? ApplyFailure else { return XCTFail("\(error)") }
            XCTAssertTrue(message.hasSuffix("so the change was undone: nothing was changed"), message)
        }
        XCTAssertEqual(backend.commits.count, 2, "the commit, then its undo")
        let undo = backend.commits.last?["nftables"]?.array?.dropFirst().map(\.compact)
        XCTAssertEqual(
            undo,
            [
                #"{"add":{"table":{"family":"inet","name":"portctl"}}}"#, #"{"delete":{"table":{"family":"inet","name":"portctl"}}}"#,
            ], "with nothing applied before, the undo takes portctl's table out")
        XCTAssertNil(store.journal(), "the undone change leaves no journal")
        XCTAssertEqual(store.generations(), [], "nor its generation")
        XCTAssertEqual(store.history().map(\.event), ["apply", "undone"], "the history says the recorded change was undone")
        XCTAssertEqual(store.current(), 0)
    }

    func testRecoveryRecordsAJournalWhoseCommitReachedTheKernel() throws {
        // An apply killed between the commit and the record: the journal, and a kernel that
        // shows a portctl table where there was none.
        try store.setJournal(
            StateStore.Journal(
                operation: "apply", id: "j1", generation: 1, previous: 0, event: "apply", detail: "portctl apply dss", token: nil,
                placement: standalone.description,
                before: Fingerprint.digest(.object([("nftables", .array([]))]), placements: [standalone]),
                persist: "keep"))
        _ = try store.addGeneration(
            meta: StateStore.Meta(
                generation: 1, time: "t", placement: standalone.description, profiles: ["dss"], options: [], command: [], forced: false,
                persist: false, previous: 0, fingerprint: "", declarationDigest: nil),
            declaration: [], rulesetText: "", planJSON: "{}", replaced: "[]")
        backend.listingJSON = #"{"nftables": [{"table": {"family": "inet", "name": "portctl", "handle": 7}}]}"#
        let notes = applier.recover()
        XCTAssertEqual(notes, ["recorded generation 1 (apply), which an interrupted portctl had committed"])
        XCTAssertEqual(store.current(), 1)
        XCTAssertNil(store.journal())
        XCTAssertEqual(store.history().map(\.event), ["apply"])
        XCTAssertEqual(applier.recover(), [], "settled once: a second recovery finds nothing")
        XCTAssertEqual(store.history().count, 1)
    }

    func testRecoveryDiscardsAJournalThatNeverReachedTheKernel() throws {
        try store.setPending(
            StateStore.Pending(generation: 1, restore: 0, deadline: Date().timeIntervalSince1970 + 60, token: "t1", watchdog: 0))
        try store.setJournal(
            StateStore.Journal(
                operation: "apply", id: "j2", generation: 1, previous: 0, event: "apply", detail: "", token: "t1",
                placement: standalone.description,
                before: Fingerprint.digest(.object([("nftables", .array([]))]), placements: [standalone]),
                persist: "keep"))
        _ = try store.addGeneration(
            meta: StateStore.Meta(
                generation: 1, time: "t", placement: standalone.description, profiles: ["dss"], options: [], command: [], forced: false,
                persist: false, previous: 0, fingerprint: "", declarationDigest: nil),
            declaration: [], rulesetText: "", planJSON: "{}", replaced: "[]")
        // The kernel shows no portctl objects: the commit never happened.
        let notes = applier.recover()
        XCTAssertEqual(notes, ["generation 1 was prepared by an interrupted portctl but never committed; discarded it"])
        XCTAssertEqual(store.current(), 0)
        XCTAssertNil(store.journal())
        XCTAssertNil(store.pending(), "its pending record goes with it: no timer rolls back a change that never happened")
        XCTAssertEqual(store.generations(), [])
        XCTAssertTrue(backend.commits.isEmpty)
    }

    func testAPendingChangeWhoseTimerIsGoneIsRolledBackAfterItsDeadline() throws {
        _ = try applier.apply(dss(), options: ApplyOptions(placement: standalone))
        let confirmation = Confirmation(token: "late", deadline: Date().timeIntervalSince1970 - 1, watchdog: 999_999)
        backend.listingJSON = #"{"nftables": [{"table": {"family": "inet", "name": "portctl"}}]}"#
        _ = try applier.apply(dss(["port80"]), options: ApplyOptions(placement: standalone, confirmation: confirmation))
        XCTAssertEqual(store.pending()?.token, "late")
        let notes = applier.recover()
        XCTAssertEqual(notes, ["generation 2 was not confirmed in time and its rollback timer had stopped: rolled back"])
        XCTAssertNil(store.pending())
        XCTAssertEqual(store.current(), 1)
        XCTAssertEqual(store.outcome(token: "late")?.event, "auto-rollback")
    }

    func testAPendingChangeBeforeItsDeadlineGetsANewTimer() throws {
        let confirmation = Confirmation(token: "early", deadline: Date().timeIntervalSince1970 + 600, watchdog: 999_999)
        _ = try applier.apply(dss(), options: ApplyOptions(placement: standalone, confirmation: confirmation))
        let notes = applier.recover(respawnWatchdog: { _ in 4242 })
        XCTAssertEqual(notes, ["the rollback timer of generation 1 had stopped; started a new one"])
        XCTAssertEqual(store.pending()?.watchdog, 4242)
        XCTAssertEqual(store.current(), 1, "nothing rolled back before the deadline")
    }

    func testTheOutcomeIsTheOneRecordedUnderTheChangesOwnToken() throws {
        try store.record("auto-rollback", generation: 0, detail: "an older change", token: "old")
        try store.record("confirm", generation: 3, detail: "portctl confirm", token: "mine")
        try store.record("rollback", generation: 2, detail: "someone else's", token: nil)
        XCTAssertEqual(store.outcome(token: "mine")?.event, "confirm")
        XCTAssertEqual(store.outcome(token: "old")?.event, "auto-rollback")
        XCTAssertNil(store.outcome(token: "nobody"))
    }

    func testConfirmAfterTheDeadlineIsTooLate() throws {
        let confirmation = Confirmation(token: "t", deadline: Date().timeIntervalSince1970 + 60, watchdog: 0)
        _ = try applier.apply(dss(), options: ApplyOptions(placement: standalone, confirmation: confirmation))
        XCTAssertEqual(try applier.pendingChanges.confirm(detail: "x", now: confirmation.deadline + 0.01), .tooLate(generation: 1))
        XCTAssertEqual(store.pending()?.token, "t", "too late changes nothing: the watchdog rolls it back")
        XCTAssertEqual(
            try applier.pendingChanges.confirm(detail: "x", now: confirmation.deadline - 1), .confirmed(generation: 1, note: nil))
        XCTAssertNil(store.pending())
        XCTAssertEqual(store.outcome(token: "t")?.event, "confirm")
    }

    func testPersistWithConfirmWaitsForTheConfirmation() throws {
        let confirmation = Confirmation(token: "p", deadline: Date().timeIntervalSince1970 + 60, watchdog: 0)
        _ = try applier.apply(dss(), options: ApplyOptions(placement: standalone, persist: true, confirmation: confirmation))
        XCTAssertFalse(store.isPersisted, "a reboot in the confirmation window must not bring the change back")
        _ = try applier.pendingChanges.confirm(detail: "x")
        XCTAssertTrue(store.isPersisted)
    }

    func testUnrecordedObjectsAreFoundInTheKernel() throws {
        backend.listingJSON = """
            {"nftables": [{"table": {"family": "inet", "name": "portctl"}}, {"table": {"family": "ip", "name": "filter"}},
             {"chain": {"family": "ip", "table": "filter", "name": "input", "hook": "input", "type": "filter", "prio": 0, "policy": "drop"}},
             {"chain": {"family": "ip", "table": "filter", "name": "portctl"}},
             {"rule": {"family": "ip", "table": "filter", "chain": "input", "handle": 4, "expr": [{"jump": {"target": "portctl"}}]}}]}
            """
        let live = try LiveRuleset(json: backend.listingJSON)
        XCTAssertEqual(
            Applier.unrecordedPlacements(live), [.standalone(table: "portctl"), .attach(family: "ip", table: "filter", chain: "input")])
        let removed = try applier.removeUnrecorded()
        XCTAssertEqual(removed.count, 2)
        XCTAssertEqual(backend.commits.count, 2)
        XCTAssertEqual(store.history().map(\.event), ["remove", "remove"])
    }

    func testOwnedTablesAreReadFromTheTextListing() {
        let text = "table inet portctl { # progname nft\n\tflags owner\n}\ntable inet other {\n\tchain x {\n\t}\n}\n"
        XCTAssertEqual(Applier.ownedTables(text).map(\.table), ["inet portctl"])
        XCTAssertEqual(Applier.ownedTables(text).first?.program, "nft")
        XCTAssertEqual(Applier.ownedTables("table inet portctl {\n\tchain input {\n\t}\n}\n").count, 0)
    }

    func testFaultSpecificationsParse() {
        XCTAssertEqual(
            FaultPlan.parse("apply.committed=kill, watchdog.locked=delay:50,x=fail,bad,y=delay:-1"),
            [
                "apply.committed": .kill, "watchdog.locked": .delay(milliseconds: 50), "x": .fail,
            ])
    }
}
