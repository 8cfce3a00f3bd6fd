import NIOCore
import PortModel
import StreamWire

/// What the framer hands the protocol handler behind it.
enum Framed {
    /// A whole request head and its body.
    case request(RequestHead, body: [UInt8])
    /// Bytes that cannot begin a request head: their first 200, enough to tell RTSP from HTTP for
    /// the 400. The framer reads no more.
    case malformed([UInt8])
    /// A head whose body is over the limit, or whose Content-Length is not a number: refused with
    /// 400. The framer reads no more.
    case refused(RequestHead)
    /// MMST's binary greeting, on the MMS port. The framer reads no more.
    case mmst
    /// Bytes as they came: RTMP, or what follows a tunnel's POST head.
    case bytes([UInt8])
}

/// Cuts a TCP connection's bytes into what its protocol handler reads: whole request heads with
/// their bodies, or raw bytes for RTMP and the tunnel's POST side. It holds at most an 8 KiB head
/// and a 64 KiB body (nothing a client sends can make it hold more), skips `$`-framed packets
/// between requests, and closes a connection whose request is not complete in time (`HeadDeadline`).
///
/// Protocol handlers set `mode` when a request changes what follows (a tunnel's POST turns into
/// raw bytes, a final answer ends the reading), before the framer reads on.
final class StreamFramer: ByteToMessageDecoder {
    typealias InboundOut = Framed

    enum Mode: Equatable {
        /// Request heads and their bodies: RTSP, HTTP, ICY, MMSH, the admin page.
        case heads
        /// The first byte decides: RTMP's version (3, or 6 for RTMPE) makes `.bytes`; anything else
        /// (an HTTP or RTSP client on the RTMP port) `.heads`.
        case sniffRTMP
        /// Everything as it comes.
        case bytes
        /// Read and dropped: a source client's audio, a tunnel's GET side, whatever follows a final
        /// answer, and the services streamd holds without speaking (PNA and the like).
        case ignore
    }

    /// How the heads of a port's service are framed.
    struct Rules: Equatable {
        /// `$` frames between requests are skipped (a player's RTCP on an interleaved session);
        /// ICY, MMS and admin clients send none.
        var skipsInterleaved = true
        /// MMST's binary greeting is told from a head (the MMS port).
        var recognisesMMST = false
        /// A POST's body is the RTSP-over-HTTP tunnel, not a body: it is not read as one, and its
        /// Content-Length (32767, or anything) is not checked.
        var postIsTunnel = false

        init(_ service: Service) {
            skipsInterleaved = service != .icy && service != .mms && service != .admin
            recognisesMMST = service == .mms
            postIsTunnel = service == .rtspHTTP
        }
    }

    /// A body longer than this is refused.
    static let maxBody = 64 * 1024

    let rules: Rules
    var mode: Mode {
        didSet { if mode != .heads { deadline.disarm() } }
    }
    private var deadline: HeadDeadline

    init(service: Service, headTimeout: Double) {
        rules = Rules(service)
        deadline = HeadDeadline(seconds: headTimeout)
        switch service {
        case .rtmp, .rtmps: mode = .sniffRTMP
        case .pna, .other, .srt, .webrtc, .rtp, .broadcast: mode = .ignore
        case .rtsp, .rtspHTTP, .http, .https, .rtmpt, .icy, .mms, .admin: mode = .heads
        }
    }

    /// Added when the connection is accepted: the first head is due within the deadline of it.
    func decoderAdded(context: ChannelHandlerContext) {
        if mode == .heads { deadline.arm(context) }
    }

    func decoderRemoved(context: ChannelHandlerContext) { deadline.disarm() }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        switch mode {
        case .ignore:
            buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
            return .needMoreData
        case .bytes:
            guard let bytes = buffer.readBytes(length: buffer.readableBytes), !bytes.isEmpty else { return .needMoreData }
            context.fireChannelRead(wrapInboundOut(.bytes(bytes)))
            return .needMoreData
        case .sniffRTMP:
            guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return .needMoreData }
            mode = first == 0x03 || first == 0x06 ? .bytes : .heads
            return .continue
        case .heads:
            let state = decodeHead(context: context, buffer: &buffer)
            if mode == .heads { deadline.update(pending: buffer.readableBytes > 0, context) }
            return state
        }
    }

    /// The connection is closing: what is left is dropped, unanswered.
    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) -> DecodingState {
        deadline.disarm()
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        return .needMoreData
    }

    private func decodeHead(context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        let readable = buffer.readableBytesView
        if rules.skipsInterleaved, readable.first == InterleavedFrame.marker {
            guard let size = InterleavedFrame.size(Array(readable.prefix(InterleavedFrame.headerSize))[...]), readable.count >= size else {
                return .needMoreData
            }
            buffer.moveReaderIndex(forwardBy: size)
            return .continue
        }
        if rules.recognisesMMST, readable.count >= 16, MMSResponder.isMMST(Array(readable.prefix(16))) {
            return finish(.mmst, context: context, buffer: &buffer)
        }
        // A head longer than the limit is malformed however it goes on: parsing one byte more than
        // the limit says as much as parsing everything.
        let prefix = Array(readable.prefix(RequestHead.maxHeadBytes + 1))
        switch RequestHead.parse(prefix) {
        case .needMore:
            return .needMoreData
        case .malformed:
            return finish(.malformed(Array(prefix.prefix(200))), context: context, buffer: &buffer)
        case .head(let head, let consumed):
            let tunnel = rules.postIsTunnel && head.method == "POST"
            let bodyLength = tunnel ? 0 : head.contentLength ?? 0
            if bodyLength > Self.maxBody || (head.hasBadContentLength && !tunnel) {
                return finish(.refused(head), context: context, buffer: &buffer)
            }
            guard readable.count >= consumed + bodyLength else { return .needMoreData }
            buffer.moveReaderIndex(forwardBy: consumed)
            let body = buffer.readBytes(length: bodyLength) ?? []
            deadline.requestCompleted()
            context.fireChannelRead(wrapInboundOut(.request(head, body: body)))
            return .continue
        }
    }

    /// Hands on the last thing this connection's bytes are read for, and reads no more.
    private func finish(_ last: Framed, context: ChannelHandlerContext, buffer: inout ByteBuffer) -> DecodingState {
        buffer.moveReaderIndex(forwardBy: buffer.readableBytes)
        mode = .ignore
        context.fireChannelRead(wrapInboundOut(last))
        return .needMoreData
    }
}
