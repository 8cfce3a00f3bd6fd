/// One RTMP connection, bytes in and bytes out: the simple handshake, then enough of the chunk
/// stream to answer `connect`, `createStream`, `play` (the test stream) and `publish` (accepted,
/// its audio and video discarded without being held).
///
/// It keeps no socket, so the TCP handler and the RTMPT (HTTP-tunnelled) handler share it.
public struct RTMPSession: Sendable {
    public enum State: Equatable, Sendable {
        case awaitingC0C1
        case awaitingC2
        case chunks
        case failed(String)
    }

    public static let handshakeSize = 1536
    /// A client may not make streamd hold more than this of unparsed input.
    public static let maxBuffered = 256 * 1024
    public static let maxMessage = 64 * 1024
    /// Audio, video and data messages a publisher sends may be larger: they are counted, never kept.
    public static let maxMediaMessage = 16 * 1024 * 1024
    /// The chunk size streamd announces before it plays (Set Chunk Size), so a 20 ms audio
    /// message fits one chunk.
    public static let outChunkSize = 4096
    /// The message stream createStream hands out.
    public static let streamID: UInt32 = 1

    public private(set) var state = State.awaitingC0C1
    private var buffer: [UInt8] = []
    /// Where unparsed chunk bytes begin in `buffer`: messages are consumed by moving it, and the
    /// buffer is compacted once per `receive`, not once per chunk.
    private var start = 0
    private var inChunkSize = 128
    private var headers: [Int: (timestamp: UInt32, length: Int, type: UInt8, stream: UInt32)] = [:]
    private var partial: [Int: [UInt8]] = [:]
    /// Bytes of a discarded media message received so far, by chunk stream.
    private var discarding: [Int: Int] = [:]
    /// Commands seen, for the admin page and tests.
    public private(set) var commands: [String] = []
    /// Set when `play` was accepted: the server should now send audio on this message stream.
    public private(set) var playing: UInt32?
    /// Set when `publish` was accepted; media bytes received since (discarded).
    public private(set) var publishing = false
    public private(set) var discardedBytes = 0
    /// Cleared by the server when it cannot take another stream (--sessions-max): play then fails.
    public var playAllowed = true
    public let serverRandom: [UInt8]

    public init(serverRandom: [UInt8] = RandomBytes.make(1528)) {
        self.serverRandom = serverRandom
    }

    /// Feeds received bytes; returns what to send back.
    public mutating func receive(_ bytes: [UInt8]) -> [UInt8] {
        guard case .failed = state else {
            buffer += bytes
            // Whole messages are consumed first: only what is left unparsed counts against the bound.
            let out = process()
            buffer.removeFirst(min(start, buffer.count))
            start = 0
            if buffer.count > Self.maxBuffered {
                state = .failed("more than \(Self.maxBuffered) bytes unparsed")
                return out
            }
            return out
        }
        return []
    }

    private mutating func process() -> [UInt8] {
        var out: [UInt8] = []
        while true {
            switch state {
            case .awaitingC0C1:
                guard buffer.count >= 1 + Self.handshakeSize else { return out }
                guard buffer[0] == 0x03 || buffer[0] == 0x06 else {
                    state = .failed("C0 is \(buffer[0]), not RTMP version 3")
                    return out
                }
                let c1 = Array(buffer[1...Self.handshakeSize])
                buffer.removeFirst(1 + Self.handshakeSize)
                // S0, S1 (time 0, zero 0, random), S2 (echo of C1): the simple handshake.
                out += [0x03] + [0, 0, 0, 0, 0, 0, 0, 0] + serverRandom + c1
                state = .awaitingC2
            case .awaitingC2:
                guard buffer.count >= Self.handshakeSize else { return out }
                buffer.removeFirst(Self.handshakeSize)
                state = .chunks
            case .chunks:
                guard let (message, consumed) = nextMessage() else { return out }
                start += consumed
                if let message { out += handle(message) }
                if case .failed = state { return out }
            case .failed:
                return out
            }
        }
    }

    public struct Message {
        let type: UInt8
        let stream: UInt32
        let payload: [UInt8]
    }

    /// Reads one chunk; returns a message when the chunk completes one, and the bytes consumed.
    private mutating func nextMessage() -> (Message?, Int)? {
        guard buffer.count > start else { return nil }
        let format = Int(buffer[start + 0] >> 6)
        var csid = Int(buffer[start + 0] & 0x3F)
        var offset = 1
        if csid == 0 {
            guard (buffer.count - start) >= 2 else { return nil }
            csid = 64 + Int(buffer[start + 1])
            offset = 2
        } else if csid == 1 {
            guard (buffer.count - start) >= 3 else { return nil }
            csid = 64 + Int(buffer[start + 1]) + Int(buffer[start + 2]) * 256
            offset = 3
        }
        let headerSizes = [11, 7, 3, 0]
        guard (buffer.count - start) >= offset + headerSizes[format] else { return nil }
        var header = headers[csid] ?? (0, 0, 0, 0)
        if format <= 2 {
            func u24(_ at: Int) -> Int { Int(buffer[start + at]) << 16 | Int(buffer[start + at + 1]) << 8 | Int(buffer[start + at + 2]) }
            if format <= 2 { header.timestamp = UInt32(u24(offset)) }
            if format <= 1 {
                header.length = u24(offset + 3)
                header.type = buffer[start + offset + 6]
            }
            if format == 0 {
                header.stream =
                    UInt32(buffer[start + offset + 7]) | UInt32(buffer[start + offset + 8]) << 8 | UInt32(buffer[start + offset + 9]) << 16
                    | UInt32(buffer[start + offset + 10]) << 24
            }
            offset += headerSizes[format]
            if header.timestamp == 0xFFFFFF {
                guard (buffer.count - start) >= offset + 4 else { return nil }
                offset += 4
            }
        } else if headers[csid] == nil {
            state = .failed("chunk continues an unknown stream")
            return (nil, (buffer.count - start))
        }
        let isMedia = header.type == 8 || header.type == 9 || header.type == 18 || header.type == 15
        guard header.length <= (isMedia ? Self.maxMediaMessage : Self.maxMessage) else {
            state = .failed("message of \(header.length) bytes is too large")
            return (nil, (buffer.count - start))
        }
        headers[csid] = header
        // A chunk with a message header (format 0 or 1) starts a new message: drop any partial one,
        // which could be longer than the length just declared (found by libFuzzer).
        if format <= 1 {
            partial[csid] = nil
            discarding[csid] = nil
        }
        if isMedia {
            // Counted and dropped chunk by chunk: a publisher never makes streamd hold a frame.
            let have = discarding[csid] ?? 0
            let take = max(0, min(inChunkSize, header.length - have))
            guard (buffer.count - start) >= offset + take else { return nil }
            discardedBytes += take
            if have + take < header.length {
                discarding[csid] = have + take
            } else {
                discarding[csid] = nil
            }
            return (nil, offset + take)
        }
        let have = partial[csid]?.count ?? 0
        let take = max(0, min(inChunkSize, header.length - have))
        guard (buffer.count - start) >= offset + take else { return nil }
        let payload = (partial[csid] ?? []) + buffer[(start + offset)..<(start + offset + take)]
        offset += take
        if payload.count < header.length {
            partial[csid] = payload
            return (nil, offset)
        }
        partial[csid] = nil
        return (Message(type: header.type, stream: header.stream, payload: payload), offset)
    }

    private mutating func handle(_ message: Message) -> [UInt8] {
        switch message.type {
        case 1:  // Set Chunk Size
            guard message.payload.count >= 4 else { return [] }
            let size =
                Int(message.payload[0] & 0x7F) << 24 | Int(message.payload[1]) << 16 | Int(message.payload[2]) << 8
                | Int(message.payload[3])
            inChunkSize = max(1, min(size, 65536))
            return []
        case 20:  // AMF0 command
            let values = AMF0.decodeAll(message.payload)
            guard case .string(let name)? = values.first else { return [] }
            commands.append(name)
            let transaction: Double
            if values.count > 1, case .number(let id) = values[1] { transaction = id } else { transaction = 0 }
            switch name {
            case "connect":
                return Self.connectReply(transaction: transaction)
            case "createStream":
                return Self.command([.string("_result"), .number(transaction), .null, .number(Double(Self.streamID))], stream: 0)
            case "play":
                guard playAllowed else {
                    return Self.onStatus("error", "NetStream.Play.Failed", "streamd: --sessions-max reached", stream: message.stream)
                }
                playing = message.stream == 0 ? Self.streamID : message.stream
                return Self.playReply(stream: playing!)
            case "publish":
                publishing = true
                let stream = message.stream == 0 ? Self.streamID : message.stream
                return Self.onStatus("status", "NetStream.Publish.Start", "streamd accepts the stream and discards it", stream: stream)
            case "releaseStream", "FCPublish", "FCUnpublish", "getStreamLength", "_checkbw", "FCSubscribe":
                return transaction == 0 ? [] : Self.command([.string("_result"), .number(transaction), .null], stream: 0)
            case "deleteStream", "closeStream", "pause", "receiveAudio", "receiveVideo":
                if name != "pause" { playing = nil }
                return []
            default:
                return Self.command(
                    [
                        .string("_error"), .number(transaction), .null,
                        .object([
                            ("level", .string("error")), ("code", .string("NetConnection.Call.Failed")),
                            ("description", .string("streamd answers connect, createStream, play and publish")),
                        ]),
                    ], stream: message.stream)
            }
        default:
            return []
        }
    }
}
