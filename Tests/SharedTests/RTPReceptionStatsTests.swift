import XCTest

@testable import StreamWire

/// RTP packets as streamd sends them: PCMU, 160 samples (20 ms) each.
enum RTPFixture {
    static func packet(sequence: UInt16, timestamp: UInt32, payloadType: UInt8 = 0) -> [UInt8] {
        [0x80, payloadType, UInt8(sequence >> 8), UInt8(sequence & 0xFF)]
            + [UInt8(timestamp >> 24), UInt8((timestamp >> 16) & 0xFF), UInt8((timestamp >> 8) & 0xFF), UInt8(timestamp & 0xFF)]
            + [1, 2, 3, 4] + [UInt8](repeating: 0xFF, count: 160)
    }

    /// Stats over `count` packets from sequence `first`, on time every 20 ms, but for those in `missing`.
    static func stream(from first: UInt16 = 0, count: Int, missing: Set<Int> = []) -> RTPReceptionStats {
        var stats = RTPReceptionStats()
        for index in 0..<count where !missing.contains(index) {
            stats.count(
                packet(sequence: first &+ UInt16(truncatingIfNeeded: index), timestamp: UInt32(index * 160)), at: Double(index) * 0.02)
        }
        return stats
    }
}

/// RFC 3550's receiver statistics on crafted sequences: the extended sequence number across the
/// wrap, loss, and the interarrival jitter.
final class RTPReceptionStatsTests: XCTestCase {
    func testLossCountsGapsAcrossTheSequenceWrap() {
        // Packets 5 and 6 (sequence 65535 and 0) never arrive.
        let stats = RTPFixture.stream(from: 65530, count: 20, missing: [5, 6])
        XCTAssertEqual(stats.packets, 18)
        XCTAssertEqual(stats.expected, 20, "65530 through 65535 and 0 through 13")
        XCTAssertEqual(stats.highestSequence, 65536 + 13)
        XCTAssertEqual(stats.jitter, 0, accuracy: 1e-9, "arrivals exactly on the 20 ms grid")
    }

    func testEveryWrapAddsACycle() {
        let stats = RTPFixture.stream(from: 1000, count: 200_000)
        XCTAssertEqual(stats.packets, 200_000)
        XCTAssertEqual(stats.expected, 200_000, "three wraps")
        XCTAssertEqual(stats.highestSequence, 1000 + 199_999)
        XCTAssertEqual(stats.deviations.count, RTPReceptionStats.maxDeviations, "kept up to the cap")
    }

    func testDuplicatesAndReorderingDoNotRaiseTheHighest() {
        var stats = RTPReceptionStats()
        for sequence: UInt16 in [10, 12, 11, 12, 13] { stats.count(RTPFixture.packet(sequence: sequence, timestamp: 0), at: 0) }
        XCTAssertEqual(stats.packets, 5, "a duplicate is counted as received")
        XCTAssertEqual(stats.expected, 4, "10 through 13")
        XCTAssertEqual(stats.firstSequence, 10)
    }

    /// A packet sent before the wrap and arriving after it (65533, 65535, 0, 65534, 1) is late, not
    /// a second cycle: the sequence is extended from the highest number, as RFC 3550 A.1 does.
    func testAPacketReorderedAcrossTheWrapIsNotAnotherCycle() {
        var stats = RTPReceptionStats()
        for (index, sequence) in [UInt16(65533), 65535, 0, 65534, 1].enumerated() {
            stats.count(RTPFixture.packet(sequence: sequence, timestamp: UInt32(index * 160)), at: Double(index) * 0.02)
        }
        XCTAssertEqual(stats.packets, 5)
        XCTAssertEqual(stats.highestSequence, 65536 + 1)
        XCTAssertEqual(stats.expected, 5, "65533 through 65535, then 0 and 1: none lost")
    }

    func testJitterFollowsRFC3550() {
        var stats = RTPReceptionStats()
        // Every other packet 4 ms late: |D| is 4 ms every time, so J tends to 4 ms.
        for index in 0..<400 {
            stats.count(
                RTPFixture.packet(sequence: UInt16(index), timestamp: UInt32(index * 160)),
                at: Double(index) * 0.02 + (index % 2 == 1 ? 0.004 : 0))
        }
        XCTAssertEqual(stats.jitter * 1000, 4, accuracy: 0.01)
        XCTAssertEqual(stats.deviations.count, 399)
        XCTAssertEqual(stats.deviations.max() ?? 0, 4, accuracy: 0.001)
    }

    func testJitterMovesBy1Over16OfEachDeviation() {
        var stats = RTPReceptionStats()
        stats.count(RTPFixture.packet(sequence: 0, timestamp: 0), at: 0)
        stats.count(RTPFixture.packet(sequence: 1, timestamp: 160), at: 0.036)
        XCTAssertEqual(stats.deviations.count, 1)
        XCTAssertEqual(stats.deviations.first ?? 0, 16, accuracy: 1e-9, "|D|: 36 ms between arrivals, 20 ms of RTP time")
        XCTAssertEqual(stats.jitter, 0.016 / 16, accuracy: 1e-12)
        // A clock rate of 16 kHz makes the same timestamps 10 ms apart.
        var wide = RTPReceptionStats(clockRate: 16000)
        wide.count(RTPFixture.packet(sequence: 0, timestamp: 0), at: 0)
        wide.count(RTPFixture.packet(sequence: 1, timestamp: 160), at: 0.010)
        XCTAssertEqual(wide.jitter, 0, accuracy: 1e-12)
    }

    func testATimestampWrapIsNotJitter() {
        var stats = RTPReceptionStats()
        stats.count(RTPFixture.packet(sequence: 0, timestamp: UInt32.max - 159), at: 0)
        stats.count(RTPFixture.packet(sequence: 1, timestamp: 0), at: 0.02)
        XCTAssertEqual(stats.jitter, 0)
        XCTAssertEqual(stats.deviations, [0])
    }

    func testRestartingTheTimingForgetsTheLastTransit() {
        var stats = RTPReceptionStats()
        // A burst that queued: all at one arrival time. Timing starts again after it.
        for index in 0..<10 { stats.count(RTPFixture.packet(sequence: UInt16(index), timestamp: UInt32(index * 160)), at: 5) }
        let burst = stats.jitter
        XCTAssertGreaterThan(burst, 0)
        stats.restartTiming()
        stats.count(RTPFixture.packet(sequence: 10, timestamp: 1600), at: 6)
        XCTAssertEqual(stats.jitter, burst, "the first packet after a restart is not timed")
        XCTAssertEqual(stats.deviations.count, 9)
        XCTAssertEqual(stats.packets, 11)
    }

    func testRTCPAndGarbageAreNotCountedAsRTP() {
        var stats = RTPReceptionStats()
        stats.count([0x80, 0xC8, 0x00, 0x06] + [UInt8](repeating: 0, count: 24), at: 0)
        stats.count([0x80, 0xC9, 0x00, 0x01] + [UInt8](repeating: 0, count: 24), at: 0)
        stats.count([0x00, 0x01, 0x02], at: 0)
        stats.count(Array("PCK1".utf8) + [UInt8](repeating: 0, count: 52), at: 0)
        stats.count(Array(RTPFixture.packet(sequence: 1, timestamp: 0).prefix(11)), at: 0)
        XCTAssertEqual(stats.packets, 0)
        XCTAssertEqual(stats.expected, 0)
        stats.count(RTPFixture.packet(sequence: 1, timestamp: 0, payloadType: 96 | 0x80), at: 0)
        XCTAssertEqual(stats.packets, 1, "a dynamic payload type with the marker bit is RTP")
    }
}
