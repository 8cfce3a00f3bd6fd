import FirewallState
import Foundation
import XCTest

/// What an apply reads of the history: the last 64 KiB, never years of it, and still the right
/// answers for "was this journal recorded?" and "which number comes next?".
final class HistoryTailTests: XCTestCase {
    var directory: String!
    var store: StateStore!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("portctl-history-\(UUID().uuidString)").path
        store = StateStore(directory: directory)
        try store.prepare()
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testAShortHistoryIsReadWhole() throws {
        XCTAssertEqual(store.highestRecordedGeneration(), 0)
        XCTAssertFalse(store.hasRecorded(id: "a"))
        try store.record("apply", generation: 3, detail: "x", id: "a")
        try store.record("rollback", generation: 2, detail: "x", id: "a-undone")
        XCTAssertTrue(store.hasRecorded(id: "a"))
        XCTAssertTrue(store.hasRecorded(id: "a-undone"))
        XCTAssertFalse(store.hasRecorded(id: "a-und"), "a whole id, not a prefix")
        XCTAssertEqual(store.highestRecordedGeneration(), 3)
        XCTAssertEqual(store.nextGeneration(), 4)
    }

    func testALongHistoryIsReadFromItsTail() throws {
        // 400 events of about 250 bytes: 100 KiB, more than the tail.
        for number in 1...400 {
            try store.record("apply", generation: number, detail: String(repeating: "d", count: 150), id: "id-\(number)")
        }
        XCTAssertTrue(store.hasRecorded(id: "id-400"))
        XCTAssertFalse(store.hasRecorded(id: "id-1"), "beyond the tail: a journal that old is not the one being finished")
        XCTAssertEqual(store.highestRecordedGeneration(), 400)
        XCTAssertEqual(store.nextGeneration(), 401)
        XCTAssertEqual(store.history().count, 400, "history() still reads everything")
    }

    /// The latest event may be longer than the tail (its detail is the command line, which may
    /// carry thousands of addresses): its id and generation are still found.
    func testAnEventLongerThanTheTailIsStillFound() throws {
        try store.record("apply", generation: 1, detail: "short", id: "first")
        try store.record("apply", generation: 2, detail: String(repeating: "192.0.2.1,", count: 10_000), id: "long")
        XCTAssertTrue(store.hasRecorded(id: "long"))
        XCTAssertEqual(store.highestRecordedGeneration(), 2)
    }

    func testATailThatNamesNoGenerationFallsBackToTheWholeFile() throws {
        try store.record("apply", generation: 9, detail: "x", id: "first")
        // A later line so long that the tail holds nothing else (and no generation).
        let path = directory + "/history.jsonl"
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data((String(repeating: "x", count: 70 * 1024) + "\n").utf8))
        try handle.close()
        XCTAssertEqual(store.highestRecordedGeneration(), 9)
    }
}
