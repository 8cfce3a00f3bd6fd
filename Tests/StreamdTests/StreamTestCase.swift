import NIOCore
import NIOEmbedded
import PortModel
import XCTest

@testable import streamd

/// What the stream tests share (issue 7): streamd's real handler and media pump on an
/// EmbeddedChannel whose clock the tests move, and readers of what it sends.
class StreamTestCase: XCTestCase {
    struct Rig {
        let control: EmbeddedChannel
        let media: MediaRegistry
        var loop: EmbeddedEventLoop { control.embeddedEventLoop }
    }

    func rig(_ service: Service = .rtsp, sessionsMax: Int = 8, mediaPorts: [Int: EmbeddedChannel] = [:]) throws -> Rig {
        let channel = EmbeddedChannel()
        let media = MediaRegistry(loop: channel.embeddedEventLoop, maxSessions: sessionsMax)
        for (port, udp) in mediaPorts { media.registerMediaPort(port, EmbeddedUDPSender(udp)) }
        try channel.pipeline.syncOperations.addHandler(
            ConnectionHandler(
                service: service, listener: "554/tcp", port: 554, counters: Counters(), tunnels: TunnelRegistry(), rtmpt: RTMPTRegistry(),
                limits: ConnectionLimits(), media: media))
        try channel.connect(to: SocketAddress(ipAddress: "192.0.2.2", port: 40000)).wait()
        return Rig(control: channel, media: media)
    }

    @discardableResult
    func send(_ channel: EmbeddedChannel, _ text: String) throws -> String {
        try channel.writeInbound(channel.allocator.buffer(bytes: Array(text.utf8)))
        return String(decoding: outbound(channel), as: UTF8.self)
    }

    func outbound(_ channel: EmbeddedChannel) -> [UInt8] {
        var out: [UInt8] = []
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { out += buffer.readableBytesView }
        return out
    }

    func header(_ name: String, in reply: String) -> String? {
        reply.split(whereSeparator: \.isNewline).first { $0.hasPrefix(name + ": ") }.map { String($0.dropFirst(name.count + 2)) }
    }

    /// `$`-framed packets: (channel, packet).
    func frames(_ bytes: [UInt8]) -> [(Int, [UInt8])] {
        var out: [(Int, [UInt8])] = []
        var offset = 0
        while offset + 4 <= bytes.count, bytes[offset] == 0x24 {
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            out.append((Int(bytes[offset + 1]), Array(bytes[(offset + 4)..<(offset + 4 + length)])))
            offset += 4 + length
        }
        XCTAssertEqual(offset, bytes.count, "nothing but whole frames")
        return out
    }

    func sequence(_ packet: [UInt8]) -> UInt16 { UInt16(packet[2]) << 8 | UInt16(packet[3]) }
    func timestamp(_ packet: [UInt8]) -> UInt32 { packet[4..<8].reduce(0) { $0 << 8 | UInt32($1) } }
}

/// A media port on an EmbeddedChannel: what streamd sends appears as its outbound datagrams.
final class EmbeddedUDPSender: UDPSender, @unchecked Sendable {
    let channel: Channel

    init(_ channel: EmbeddedChannel) { self.channel = channel }

    func send(_ datagram: ByteBuffer, to address: SocketAddress) -> Bool {
        channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: datagram), promise: nil)
        return true
    }
}
