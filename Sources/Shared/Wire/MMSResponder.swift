/// Answers MMS over HTTP (MMSH) the way Windows Media Services did, which players and nmap
/// recognise: a describe request gets the ASF header of the test stream in a `$H` chunk; a play
/// request (`Pragma: xPlayStrm=1`) gets the header again, after which the server streams `$D`
/// chunks of ASF data packets.
public enum MMSResponder {
    static let headers: [(String, String)] = [
        ("Server", ServerHeader.windowsMedia), ("Cache-Control", "no-cache"),
        ("Supported", "com.microsoft.wm.srvppair, com.microsoft.wm.sswitch, com.microsoft.wm.predstrm"),
    ]

    /// Whether a GET asks to play (the second request of an MMSH session) rather than to describe.
    public static func isPlayRequest(_ head: RequestHead) -> Bool {
        head.method == "GET" && head.headers.contains { $0.0.lowercased() == "pragma" && $0.1.lowercased().contains("xplaystrm=1") }
    }

    public static func respond(to head: RequestHead) -> Response {
        guard head.method == "GET" || head.method == "POST" else {
            return Response(version: "HTTP/1.0", status: 405, reason: "Method Not Allowed", headers: [("Content-Length", "0")])
        }
        let body = chunk("H", sequence: 0, body: ASF.header())
        return Response(
            version: "HTTP/1.0", status: 200, reason: "OK",
            headers: headers + [
                ("Content-Type", "application/vnd.ms.wms-hdr.asfv1"), ("Pragma", "no-cache,client-id=1,features=\"broadcast\""),
                ("Content-Length", String(body.count)), ("Connection", "close"),
            ],
            body: head.method == "GET" ? body : [])
    }

    /// The head of a play answer and the header chunk; the data chunks follow from the media pump.
    public static func playResponse() -> Response {
        Response(
            version: "HTTP/1.0", status: 200, reason: "OK",
            headers: headers + [
                ("Content-Type", "application/x-mms-framed"), ("Pragma", "no-cache,client-id=1,features=\"broadcast\""),
                ("Connection", "close"),
            ],
            body: chunk("H", sequence: 0, body: ASF.header()))
    }

    /// MMST (binary, little-endian): 0xB00BFACE at offset 4 and "MMS " at 12 mark it.
    public static func isMMST(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 16 && Array(bytes[4..<8]) == [0xCE, 0xFA, 0x0B, 0xB0] && Array(bytes[12..<16]) == Array("MMS ".utf8)
    }

    /// A minimal MMST reply in the same framing, so a binary client sees an MMS server answer.
    public static func mmstReply() -> [UInt8] {
        var packet: [UInt8] = [1, 0, 0, 0, 0xCE, 0xFA, 0x0B, 0xB0]
        let body: [UInt8] =
            Array("MMS ".utf8) + [UInt8](repeating: 0, count: 20) + [0x01, 0x00, 0x04, 0x00] + [UInt8](repeating: 0, count: 8)
        let length = UInt32(body.count)
        packet += [UInt8(length & 0xFF), UInt8((length >> 8) & 0xFF), UInt8((length >> 16) & 0xFF), UInt8(length >> 24)]
        return packet + body
    }
}
