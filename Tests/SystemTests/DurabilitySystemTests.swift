import FirewallState
import Foundation
import PortModel
import TestSupport
import XCTest

/// What an apply makes durable, and when (issue 13; DESIGN.md, decision 4): before the commit only
/// the journal (and, with --confirm, the restore point and the pending record) is fsynced; the new
/// generation's files are fsynced after it, while the kernel's grace period runs, and before
/// `current` names the generation. strace shows the order of the real system calls.
final class DurabilitySystemTests: SafeApplyFixture {
    struct Call {
        let index: Int
        let line: String
    }

    /// `portctl ARGUMENTS` under strace: every fsync, rename and netlink sendmsg, in order, with
    /// the paths of the descriptors (-y).
    func traced(_ arguments: [String]) throws -> ([Call], ProcessResult) {
        let (lines, result) = try straced(["-y", "-qq", "-s", "64", "-e", "trace=fsync,fdatasync,rename,sendmsg"], arguments)
        return (lines.enumerated().map { Call(index: $0.offset, line: $0.element) }, result)
    }

    func testOnlyTheJournalIsOnDiskBeforeTheCommitAndTheGenerationBeforeCurrentNamesIt() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let (calls, result) = try traced(["apply", "dss", "--port80", "--persist", "-q"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let commit = try XCTUnwrap(
            calls.first { $0.line.contains("sendmsg(") && $0.line.contains("NFNL_MSG_BATCH_BEGIN") }, "no commit seen")
        func fsyncs(of fragment: String) -> [Call] {
            calls.filter { $0.line.contains("fsync(") && $0.line.contains(fragment) }
        }
        // Before the commit: the journal, and the directory that holds it, and nothing else.
        let early = calls.filter { $0.line.contains("fsync(") && $0.index < commit.index }
        XCTAssertEqual(
            early.filter { !$0.line.contains("/journal.json.tmp.") && !$0.line.contains("<\(stateDirectory!)>") }.map(\.line), [],
            "only the journal and its directory are fsynced before the commit")
        let journal = fsyncs(of: "/journal.json")
        XCTAssertFalse(journal.isEmpty, "the journal is fsynced")
        XCTAssertTrue(journal.allSatisfy { $0.index < commit.index }, "the journal is on disk before the commit")
        let generation = fsyncs(of: "/generations/2/")
        let names = generation.compactMap { call -> String? in
            guard let found = call.line.range(of: "/generations/2/") else { return nil }
            return String(call.line[found.upperBound...].prefix { $0 != ">" })
        }
        XCTAssertEqual(
            Set(names), ["declaration.json", "ruleset.nft", "plan.json", "meta.json"], "each of the generation's files is fsynced")
        XCTAssertTrue(generation.allSatisfy { $0.index > commit.index }, "the generation's files are fsynced after the commit")
        for staged in ["/current.next>", "/persist.next>"] {
            let synced = fsyncs(of: staged)
            XCTAssertFalse(synced.isEmpty, "\(staged) is fsynced")
            XCTAssertTrue(synced.allSatisfy { $0.index > commit.index }, "\(staged) is fsynced after the commit")
        }
        // Before anything names it: `current` and the boot copy are renamed into place afterwards.
        let installed = try XCTUnwrap(
            calls.first { $0.line.contains("rename(") && $0.line.contains("/current.next\", ") }, "current installed")
        let booted = try XCTUnwrap(
            calls.first { $0.line.contains("rename(") && $0.line.contains("/persist.next\", ") }, "boot copy installed")
        let lastSync = try XCTUnwrap((generation + fsyncs(of: "/current.next>") + fsyncs(of: "/persist.next>")).map(\.index).max())
        XCTAssertLessThan(lastSync, installed.index, "the generation is on disk before current names it")
        XCTAssertLessThan(lastSync, booted.index, "the boot copy is on disk before it is installed")
        XCTAssertEqual(try String(contentsOfFile: stateDirectory + "/current", encoding: .utf8), "2\n")
    }

    /// Killed after the commit, before the new generation was made durable: the next portctl finds
    /// the journal, makes the generation durable and records it, and the generation reads back.
    func testAnApplyKilledBeforeItsGenerationIsDurableIsFinishedByTheNextPortctl() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let first = try ruleset()
        XCTAssertEqual(try portctl(["apply", "dss", "--port80", "-q", "--fault", "apply.committed=kill"]).status, 9)
        XCTAssertTrue(FileManager.default.fileExists(atPath: stateDirectory + "/journal.json"), "killed with its journal left")
        let (calls, result) = try traced(["confirm"])
        XCTAssertTrue(result.stderr.contains("recorded generation 2 (apply), which an interrupted portctl had committed"), result.stderr)
        XCTAssertTrue(
            calls.contains { $0.line.contains("fsync(") && $0.line.contains("/generations/2/declaration.json") },
            "recovery makes the generation durable: \(calls.map(\.line))")
        XCTAssertEqual(try String(contentsOfFile: stateDirectory + "/current", encoding: .utf8), "2\n")
        let shown = try portctl(["history", "--json"])
        XCTAssertTrue(shown.stdout.contains("\"current\": 2,"), shown.stdout)
        XCTAssertTrue(shown.stdout.contains("the portctl that committed it was interrupted"), "recorded by recovery: \(shown.stdout)")
        XCTAssertEqual(try portctl(["rollback"]).status, 0)
        XCTAssertEqual(try ruleset(), first, "back to generation 1")
    }

    /// With --confirm, killed right after finalize made the generation durable (the new fault
    /// point): the rollback timer, which the fault does not kill (--fault-once), rolls the change
    /// back at its deadline, as for a kill at any other step.
    func testAConfirmedApplyKilledOnceItsGenerationIsDurableIsRolledBack() throws {
        XCTAssertEqual(try portctl(["apply", "dss", "-q"]).status, 0)
        let before = try ruleset()
        let once = stateDirectory + "-once"
        defer { try? FileManager.default.removeItem(atPath: once) }
        let apply = try portctl(
            ["apply", "dss", "--port80", "--confirm", "1", "-q", "--fault", "finalize.durable=kill", "--fault-once", once])
        XCTAssertEqual(apply.status, 9, apply.stderr)
        XCTAssertTrue(try settle(to: before, within: 8), "rolled back by the timer")
        let next = try portctl(["apply", "dss", "-q"])
        XCTAssertEqual(next.status, 0, next.stderr)
        XCTAssertEqual(try ruleset(), before)
    }
}
