import FoundationEssentials
import PortModel
import StreamWire

/// One RTSP reply (or the HTTP reply to the tunnel's GET), parsed from the bytes of the control
/// connection, and what the media check reads from replies.
struct RTSPReply {
    let status: Int
    let headers: [(String, String)]
    let body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }

    /// N of streamd's `X-Streamd-RTCP: received=N` (the datagrams it received from this player),
    /// when the reply has it.
    var received: Int? {
        guard let header = header("X-Streamd-RTCP") else { return nil }
        return header.split(separator: ";").lazy.compactMap { field -> Int? in
            let pair = field.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces() }
            return pair.count == 2 && pair[0] == "received" ? Int(pair[1]) : nil
        }.first
    }

    /// A whole reply off the front of `bytes` and the bytes it used; nil while more must come.
    /// A body is at most 1 MiB.
    static func parse(_ bytes: [UInt8]) -> (RTSPReply, Int)? {
        guard !InterleavedFrame.starts(bytes[...]), let end = HeadEnd.reply(in: bytes[...]) else { return nil }
        let lines = String(decoding: bytes[0..<end.headLength], as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init)
        guard let first = lines.first else { return nil }
        let parts = first.split(separator: " ")
        let status = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let headers = lines.dropFirst().compactMap { line -> (String, String)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingSpaces())
        }
        // The tunnel GET's reply has no length and never ends: its head is the whole reply.
        let isTunnelHead =
            first.hasPrefix("HTTP/") && headers.contains { $0.0.lowercased() == "content-type" && $0.1.contains("rtsp-tunnelled") }
        let length =
            isTunnelHead ? 0 : max(0, min(1 << 20, headers.first { $0.0.lowercased() == "content-length" }.flatMap { Int($0.1) } ?? 0))
        guard bytes.count >= end.bodyStart + length else { return nil }
        return (
            RTSPReply(status: status, headers: headers, body: Array(bytes[end.bodyStart..<(end.bodyStart + length)])),
            end.bodyStart + length
        )
    }

    /// The `a=control:` of the SDP's first media section (a line of its own, after the first `m=`):
    /// the track to SET UP.
    static func trackControl(_ sdp: String) -> String? {
        let lines = sdp.split(whereSeparator: \.isNewline)
        guard let media = lines.firstIndex(where: { $0.hasPrefix("m=") }) else { return nil }
        for line in lines[(media + 1)...] {
            if line.hasPrefix("m=") { break }
            if line.hasPrefix("a=control:") { return String(line.dropFirst("a=control:".count)) }
        }
        return nil
    }
}
