import XCTest

@testable import StreamWire

/// The test stream's building blocks (issue 7): µ-law, the tone, RTP and RTCP.
final class MediaTests: XCTestCase {
    func testMuLawKnownValues() {
        XCTAssertEqual(MuLaw.encode(0), 0xFF, "silence is 0xFF")
        XCTAssertEqual(MuLaw.encode(-1), 0x7F)
        XCTAssertEqual(MuLaw.encode(32767), 0x80, "positive full scale")
        XCTAssertEqual(MuLaw.encode(-32768), 0x00, "negative full scale")
        for sample: Int16 in [-30000, -1000, -100, 0, 100, 1000, 30000] {
            let roundTrip = Int(MuLaw.decode(MuLaw.encode(sample)))
            XCTAssertLessThanOrEqual(abs(roundTrip - Int(sample)), max(8, abs(Int(sample)) / 16), "\(sample) -> \(roundTrip)")
        }
    }

    func testToneIsContinuousAcrossFrames() {
        var tone = ToneGenerator()
        let first = tone.nextFrame()
        let second = tone.nextFrame()
        XCTAssertEqual(first.count, 160)
        // 1 kHz at 8 kHz repeats every 8 samples, so every frame of 160 samples is the same.
        XCTAssertEqual(first, second)
        XCTAssertEqual(Array(first[0..<8]), Array(first[8..<16]))
        XCTAssertNotEqual(Set(first).count, 1, "a tone, not silence")
        // Peaks at +amplitude and -amplitude a quarter period apart, zero crossings in between.
        XCTAssertEqual(MuLaw.decode(first[0]), MuLaw.decode(MuLaw.encode(0)))
        XCTAssertEqual(Int(MuLaw.decode(first[2])), 8000, accuracy: 300)
        XCTAssertEqual(Int(MuLaw.decode(first[6])), -8000, accuracy: 300)
        XCTAssertEqual(Int(ToneGenerator().sinApproximation(Double.pi / 6) * 1_000_000), 500_000, accuracy: 5)
    }

    func testSequenceTimestampAndMarker() {
        var packetizer = RTPPacketizer(ssrc: 0x0102_0304, initialSequence: 65534, initialTimestamp: 0xFFFF_FF00)
        let payload = [UInt8](repeating: 0xFF, count: 160)
        let first = packetizer.packet(payload: payload)
        let second = packetizer.packet(payload: payload)
        let third = packetizer.packet(payload: payload)
        XCTAssertEqual(
            Array(first[0..<12]), [0x80, 0x80, 0xFF, 0xFE, 0xFF, 0xFF, 0xFF, 0x00, 0x01, 0x02, 0x03, 0x04], "marker on the first packet")
        XCTAssertEqual(Array(second[0..<4]), [0x80, 0x00, 0xFF, 0xFF])
        XCTAssertEqual(Array(third[2..<8]), [0x00, 0x00, 0x00, 0x00, 0x00, 0x40], "sequence and timestamp wrap around")
        XCTAssertEqual(first.count, 172)
        XCTAssertEqual(packetizer.packetsSent, 3)
        XCTAssertEqual(packetizer.octetsSent, 480)
    }

    func testSenderReportLayout() {
        var packetizer = RTPPacketizer(ssrc: 7, initialSequence: 0, initialTimestamp: 1000)
        _ = packetizer.packet(payload: [UInt8](repeating: 0xFF, count: 160))
        let report = packetizer.senderReport(ntpSeconds: 0xE000_0000, ntpFraction: 0x8000_0000)
        XCTAssertEqual(report.count, 28)
        XCTAssertEqual(Array(report[0..<8]), [0x80, 200, 0x00, 0x06, 0, 0, 0, 7])
        XCTAssertEqual(Array(report[16..<20]), [0, 0, 0x04, 0x88], "RTP timestamp now: 1000 + 160")
        XCTAssertEqual(Array(report[20..<28]), [0, 0, 0, 1, 0, 0, 0, 160], "packet and octet counts")
    }

    func testPacingIsA20MillisecondGrid() {
        XCTAssertEqual(RTPPacketizer.dueTime(of: 0), 0)
        XCTAssertEqual(RTPPacketizer.dueTime(of: 50), 1.0, accuracy: 1e-9, "50 packets per second")
        XCTAssertEqual(RTPPacketizer.dueTime(of: 1500), 30.0, accuracy: 1e-9, "no drift over time")
    }

    func testSkippedPacketsAdvanceSequenceAndTimestamp() {
        var packetizer = RTPPacketizer(ssrc: 1, initialSequence: 65535, initialTimestamp: 100)
        _ = packetizer.packet(payload: [0xFF])
        packetizer.skip(3)
        let next = packetizer.packet(payload: [0xFF])
        XCTAssertEqual(Array(next[2..<4]), [0x00, 0x03], "65535, then 0, 1 and 2 skipped, then 3")
        XCTAssertEqual(Array(next[4..<8]), [0x00, 0x00, 0x02, 0xE4], "100 + 4 x 160 = 740")
        XCTAssertEqual(packetizer.packetsSent, 2, "skipped packets are not counted as sent in RTCP")
    }
}
