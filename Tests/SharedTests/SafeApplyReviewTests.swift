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

/// What the adversarial review of the safe-apply order found, each as a test.
final class SafeApplyReviewTests: SafeApplyUnitFixture {

    /// A journal whose objects are gone (the ruleset was flushed, or the machine restarted) is
    /// not proof of a commit: it is discarded, never recorded, and a later apply is no "no change".
    func testAJournalWhoseObjectsAreGoneIsNotRecorded() throws {
        backend.listingJSON =
            #"{"nftables": [{"table": {"family": "inet", "name": "portctl"}}, {"chain": {"family": "inet", "table": "portctl", "name": "input"}}]}"#
        let before = try JSONValue.parse(backend.listingJSON)
        try store.setJournal(
            StateStore.Journal(
                operation: "apply", id: "j3", generation: 2, previous: 0, event: "apply", detail: "", token: nil,
                placement: standalone.description, before: Fingerprint.digest(before, placements: [standalone]), persist: "keep"))
        backend.listingJSON = #"{"nftables": [{"metainfo": {"json_schema_version": 1}}]}"#
        let notes = applier.recover()
        XCTAssertEqual(notes.count, 1)
        XCTAssertTrue(notes[0].contains("left portctl's objects neither as before nor as intended"), notes[0])
        XCTAssertEqual(store.current(), 0)
        XCTAssertEqual(store.history().map(\.event), ["abandoned"])
        // The generation number is not reused.
        XCTAssertEqual(store.nextGeneration(), 3)
    }

    func testANoOpNeedsPortctlsObjectsToBeThere() throws {
        _ = try applier.apply(dss(), options: ApplyOptions(placement: standalone))
        // The kernel's listing shows nothing (the fake never holds what it committed): a re-apply
        // of the same plan is a real apply, not "no change".
        let again = try applier.apply(dss(), options: ApplyOptions(placement: standalone))
        guard case .applied(let generation, _, _) = again else { return XCTFail("\(again)") }
        XCTAssertEqual(generation, 2)
    }

    func testAHalfWrittenHistoryLineDoesNotSwallowTheNextEvent() throws {
        try store.record("apply", generation: 1, detail: "first")
        // A crash in the middle of an append leaves a line without its end.
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: directory + "/history.jsonl"))
        try handle.seekToEnd()
        handle.write(Data(#"{"detail":"half","event":"conf"#.utf8))
        try handle.close()
        try store.record("confirm", generation: 1, detail: "after", token: "t")
        XCTAssertEqual(store.history().map(\.event), ["apply", "confirm"])
        XCTAssertEqual(store.outcome(token: "t")?.detail, "after")
    }

    func testTheBootClockDecidesWhenTheWallClockStepsBack() {
        let pending = StateStore.Pending(
            generation: 2, restore: 1, deadline: 1_000_000, token: "t", watchdog: 0, bootID: "boot-a", bootDeadline: 500)
        XCTAssertTrue(pending.hasExpired(now: 999_000, boottime: 501, boot: "boot-a"), "the wall clock went back; boot time did not")
        XCTAssertFalse(pending.hasExpired(now: 999_000, boottime: 499, boot: "boot-a"))
        XCTAssertFalse(pending.hasExpired(now: 999_000, boottime: 501, boot: "boot-b"), "boot time of another boot means nothing")
        XCTAssertTrue(pending.hasExpired(now: 1_000_000, boottime: 0, boot: "boot-b"))
    }

    func testAnUnreadableRestorePointIsRefusedBeforeTheChange() throws {
        _ = try applier.apply(dss(), options: ApplyOptions(placement: standalone))
        try Data("not json".utf8).write(to: URL(fileURLWithPath: directory + "/generations/1/declaration.json"))
        let commits = backend.commits.count
        let confirmation = Confirmation(token: "u", deadline: Date().timeIntervalSince1970 + 60, watchdog: 0)
        XCTAssertThrowsError(try applier.apply(dss(["port80"]), options: ApplyOptions(placement: standalone, confirmation: confirmation))) {
            error in
            XCTAssertEqual(
                (error as? ApplyFailure)?.description,
                "generation 1, which a rollback would restore, cannot be read from \(self.directory!), so nothing was changed")
        }
        XCTAssertEqual(backend.commits.count, commits)
    }

    func testAnExpiredChangeWhoseRestorePointIsUnreadableIsTakenOut() throws {
        _ = try applier.apply(dss(), options: ApplyOptions(placement: standalone))
        let confirmation = Confirmation(token: "x", deadline: Date().timeIntervalSince1970 + 60, watchdog: 0)
        _ = try applier.apply(dss(["port80"]), options: ApplyOptions(placement: standalone, confirmation: confirmation))
        try Data("not json".utf8).write(to: URL(fileURLWithPath: directory + "/generations/1/declaration.json"))
        backend.listingJSON = #"{"nftables": [{"table": {"family": "inet", "name": "portctl"}}]}"#
        try applier.pendingChanges.expire(token: "x")
        let removal = backend.commits.last?["nftables"]?.array?.dropFirst().map(\.compact)
        XCTAssertEqual(
            removal,
            [
                #"{"add":{"table":{"family":"inet","name":"portctl"}}}"#, #"{"delete":{"table":{"family":"inet","name":"portctl"}}}"#,
            ], "the unconfirmed change does not stay: portctl's table is taken out")
        let outcome = try XCTUnwrap(store.outcome(token: "x"))
        XCTAssertEqual(outcome.event, "auto-rollback")
        XCTAssertTrue(outcome.detail.hasSuffix("generation 1 cannot be read, so portctl's rules were taken out instead"), outcome.detail)
        XCTAssertNil(store.pending())
    }

    func testADeclineIsNeverUndone() throws {
        _ = try applier.apply(dss(), options: ApplyOptions(placement: standalone))
        let confirmation = Confirmation(token: "d", deadline: Date().timeIntervalSince1970 + 60, watchdog: 0)
        _ = try applier.apply(dss(["port80"]), options: ApplyOptions(placement: standalone, confirmation: confirmation))
        // Recording the rollback will fail after its event: `current` cannot be replaced.
        try FileManager.default.removeItem(atPath: directory + "/current")
        try FileManager.default.createDirectory(atPath: directory + "/current", withIntermediateDirectories: false)
        try FileManager.default.removeItem(atPath: directory + "/current.rollback")
        backend.listingJSON = #"{"nftables": [{"table": {"family": "inet", "name": "portctl"}}]}"#
        let commits = backend.commits.count
        XCTAssertThrowsError(try applier.pendingChanges.decline(detail: "declined")) { error in
            guard case .stranded = error as? ApplyFailure else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(backend.commits.count, commits + 1, "the rollback, and no undo of it")
        XCTAssertEqual(store.outcome(token: "d")?.event, "rollback")
    }

    func testAPendingRecordThatCannotBeReadIsNotAbsent() throws {
        XCTAssertEqual(store.pendingState(), .absent)
        try FileManager.default.createDirectory(atPath: directory + "/pending.json", withIntermediateDirectories: false)
        XCTAssertEqual(store.pendingState(), .unreadable)
        XCTAssertNil(store.pending())
    }
}
