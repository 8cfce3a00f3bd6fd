import NIOCore
import NIOEmbedded
import XCTest

@testable import streamd

/// The session registry and the pump apart (issue 12 split them): what the pump asks of the
/// registry on each tick, and the pump stopping with the last session and starting again.
final class MediaRegistryTests: XCTestCase {
    /// RTP packets written to `channel` (each in a buffer of its own), sender reports left out.
    func rtpPackets(_ channel: EmbeddedChannel) -> Int {
        var count = 0
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) {
            if Array(buffer.readableBytesView.prefix(2)) == [0x24, 0] { count += 1 }
        }
        return count
    }

    func testATickExpiresSilentUDPSessionsOnlyAndHandsOnThePlayingOnes() throws {
        let loop = EmbeddedEventLoop()
        let registry = MediaRegistry(loop: loop, maxSessions: 8, timeout: 60)
        let stream = EmbeddedChannel(loop: loop)
        let address = try SocketAddress(ipAddress: "192.0.2.2", port: 5000)
        let sender = EmbeddedUDPSender(EmbeddedChannel(loop: loop))
        let udp = try XCTUnwrap(
            registry.add(
                owner: ObjectIdentifier(self),
                sink: .udp(rtp: sender, rtcp: sender, to: address, rtcpTo: address, serverPorts: (6970, 6971))))
        let paused = try XCTUnwrap(registry.add(owner: ObjectIdentifier(self), sink: .interleaved(stream, rtp: 0, rtcp: 1)))
        // Marked playing by hand: the pump itself stays out of this test.
        let playing = try XCTUnwrap(registry.add(owner: ObjectIdentifier(self), sink: .icy(stream)))
        playing.playing = true
        var handed: [String] = []
        XCTAssertTrue(registry.advance(to: 49, now: loop.now + .seconds(61)) { handed.append($0.id) })
        XCTAssertEqual(handed, [playing.id], "only playing sessions are sent")
        XCTAssertNotNil(registry.session(udp.id), "expiry runs on every 50th tick only")
        XCTAssertTrue(registry.advance(to: 50, now: loop.now + .seconds(61)) { _ in })
        XCTAssertNil(registry.session(udp.id), "a UDP session silent for longer than the timeout")
        XCTAssertNotNil(registry.session(paused.id), "stream sessions end with their connection, not by silence")
        XCTAssertTrue(registry.remove(paused.id) && registry.remove(playing.id))
        XCTAssertFalse(registry.advance(to: 51, now: loop.now) { _ in XCTFail("no session left") }, "no session: the pump stops")
    }

    func testThePumpStopsWithTheLastSessionAndStartsAgainOnItsGrid() throws {
        let channel = EmbeddedChannel()
        let registry = MediaRegistry(loop: channel.embeddedEventLoop, maxSessions: 8)
        let first = try XCTUnwrap(
            registry.add(owner: ObjectIdentifier(channel), sink: .interleaved(channel, rtp: 0, rtcp: 1), playing: true))
        for _ in 0..<3 { channel.embeddedEventLoop.advanceTime(by: .milliseconds(20)) }
        XCTAssertEqual(rtpPackets(channel), 3, "one RTP packet per tick (the first with its sender report)")
        XCTAssertTrue(registry.remove(first.id))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(100))
        XCTAssertEqual(rtpPackets(channel), 0)
        _ = try XCTUnwrap(registry.add(owner: ObjectIdentifier(channel), sink: .interleaved(channel, rtp: 0, rtcp: 1), playing: true))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(20))
        XCTAssertEqual(rtpPackets(channel), 1, "started again: the next tick sends the new session's first packet")
        for _ in 0..<2 { channel.embeddedEventLoop.advanceTime(by: .milliseconds(20)) }
        XCTAssertEqual(rtpPackets(channel), 2, "and then one per 20 ms")
        registry.removeAll(owner: ObjectIdentifier(channel))
    }
}
