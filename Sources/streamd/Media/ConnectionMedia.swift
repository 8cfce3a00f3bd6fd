import NIOCore
import StreamWire

/// The RTSP media host of one connection: SETUP, PLAY, PAUSE and TEARDOWN against the registry.
/// Media goes to `sink` (the RTSP connection, or a tunnel's GET side); UDP goes to `client`'s address.
final class ConnectionMedia: RTSPMediaHost {
    let registry: MediaRegistry
    let sink: Channel
    let client: SocketAddress?

    init(registry: MediaRegistry, sink: Channel, client: SocketAddress?) {
        self.registry = registry
        self.sink = sink
        self.client = client
    }

    func setup(_ offers: [RTSPTransportRequest], session: String?) -> RTSPSetupOutcome {
        if let session, registry.session(session) == nil { return .sessionNotFound }
        var reasons: [String] = []
        for offer in offers {
            let sink: MediaSink
            let reply: (UInt32) -> String
            switch offer {
            case .udp(let rtp, let rtcp):
                guard let client, let pair = registry.nextPair() else {
                    reasons.append("no UDP media range is served (the plan opens none); use RTP/AVP/TCP")
                    continue
                }
                guard let to = Self.address(client, port: rtp, for: pair.rtp.channel),
                    let rtcpTo = Self.address(client, port: rtcp, for: pair.rtcp.channel)
                else {
                    reasons.append("cannot reach the client's address over UDP")
                    continue
                }
                sink = .udp(rtp: pair.rtp, rtcp: pair.rtcp, to: to, rtcpTo: rtcpTo, serverPorts: pair.ports)
                reply = {
                    RTSPResponder.udpTransport(
                        clientRTP: rtp, clientRTCP: rtcp, serverRTP: pair.ports.0, serverRTCP: pair.ports.1, ssrc: $0)
                }
            case .interleaved(let rtp, let rtcp):
                sink = .interleaved(self.sink, rtp: rtp, rtcp: rtcp)
                reply = { RTSPResponder.interleavedTransport(rtp: rtp, rtcp: rtcp, ssrc: $0) }
            case .unsupported(let why):
                reasons.append(why)
                continue
            }
            if let session, let existing = registry.session(session) {
                registry.setSink(session, sink)
                return .ok(session: session, transport: reply(existing.ssrc))
            }
            guard let created = registry.add(owner: ObjectIdentifier(self.sink), sink: sink) else { return .full(registry.maxSessions) }
            return .ok(session: created.id, transport: reply(created.ssrc))
        }
        return .unsupportedTransport(reasons.isEmpty ? "no transport offered" : reasons.joined(separator: "; "))
    }

    func play(session: String) -> (sequence: UInt16, rtpTime: UInt32)? {
        registry.play(session).map { (sequence: $0.0, rtpTime: $0.1) }
    }

    func pause(session: String) -> Bool { registry.pause(session) }
    func teardown(session: String) -> Bool { registry.remove(session) }
    func touch(session: String) -> Bool { registry.touch(session) }
    func receivedFromClient(session: String) -> Int? { registry.received(session) }

    /// The client's address with another port, in the family of the socket that will send to it
    /// (an IPv4 client reaches a dual-stack listener as ::ffff:a.b.c.d).
    static func address(_ client: SocketAddress, port: Int, for channel: Channel) -> SocketAddress? {
        guard var address = client.ipAddress.flatMap({ try? SocketAddress(ipAddress: $0, port: port) }) else { return nil }
        if case .v4 = channel.localAddress, let text = client.ipAddress, text.hasPrefix("::ffff:") {
            address = (try? SocketAddress(ipAddress: String(text.dropFirst(7)), port: port)) ?? address
        } else if case .v6 = channel.localAddress, case .v4 = address, let text = client.ipAddress {
            address = (try? SocketAddress(ipAddress: "::ffff:" + text, port: port)) ?? address
        }
        return address
    }
}
