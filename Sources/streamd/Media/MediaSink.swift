import NIOCore

/// Where one session's media goes.
enum MediaSink {
    /// RTP from the server pair's first port, RTCP from its second, to the client's ports. Sent with
    /// the sockets' own `send`, so a client that cannot be reached costs packets, never a socket.
    case udp(rtp: UDPSender, rtcp: UDPSender, to: SocketAddress, rtcpTo: SocketAddress, serverPorts: (Int, Int))
    /// `$`-framed on an RTSP connection, or on the GET side of an RTSP-over-HTTP tunnel.
    case interleaved(Channel, rtp: Int, rtcp: Int)
    /// FLV audio messages on an RTMP connection.
    case rtmp(Channel, stream: UInt32)
    /// MP3 frames on an ICY/HTTP response.
    case icy(Channel)
    /// ASF data packets in MMSH `$D` chunks.
    case mmsh(Channel)

    var streamChannel: Channel? {
        switch self {
        case .udp: return nil
        case .interleaved(let channel, _, _), .rtmp(let channel, _), .icy(let channel), .mmsh(let channel): return channel
        }
    }
}
