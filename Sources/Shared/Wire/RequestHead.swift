/// The head of a text request: RTSP, HTTP, ICY and MMSH all start with a request line and headers.
public struct RequestHead: Sendable, Equatable {
    public var method: String
    public var target: String
    public var version: String
    public var headers: [(String, String)]

    public static func == (lhs: RequestHead, rhs: RequestHead) -> Bool {
        lhs.method == rhs.method && lhs.target == rhs.target && lhs.version == rhs.version
            && lhs.headers.map { "\($0.0):\($0.1)" } == rhs.headers.map { "\($0.0):\($0.1)" }
    }

    /// The first header with this name, compared without case.
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    public var isRTSP: Bool { version.hasPrefix("RTSP/") }
    /// The body length: nil when absent. A value that is not a non-negative decimal makes the
    /// request malformed (`hasBadContentLength`), never a negative length.
    public var contentLength: Int? {
        guard let text = header("Content-Length"), let value = Int(text), value >= 0 else { return nil }
        return value
    }

    public var hasBadContentLength: Bool { header("Content-Length") != nil && contentLength == nil }

    /// Limits that keep a hostile client from growing a request without end.
    public static let maxHeadBytes = 8192
    public static let maxHeaders = 64

    public enum Parse: Equatable {
        case needMore
        case head(RequestHead, consumed: Int)
        case malformed(String)
    }

    /// Parses a head from the start of `bytes`: everything up to the blank line.
    public static func parse(_ bytes: [UInt8]) -> Parse {
        guard let end = HeadEnd.request(in: bytes[...]) else {
            return bytes.count > maxHeadBytes ? .malformed("head longer than \(maxHeadBytes) bytes") : .needMore
        }
        guard end.bodyStart <= maxHeadBytes else { return .malformed("head longer than \(maxHeadBytes) bytes") }
        guard
            let text = String(validating: bytes[0..<end.headLength], as: UTF8.self)
                ?? String(validatingUTF8Bytes: bytes[0..<end.headLength])
        else {
            return .malformed("head is not text")
        }
        // "\r\n" is one Character in Swift, so split on any newline character.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { line in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        while lines.last == "" { lines.removeLast() }
        guard let requestLine = lines.first else { return .malformed("empty request") }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard parts.count == 3 else { return .malformed("request line needs METHOD TARGET VERSION") }
        guard parts[0].allSatisfy({ $0.isASCII && ($0.isUppercase || $0 == "_" || $0 == "-") }), !parts[0].isEmpty else {
            return .malformed("bad method")
        }
        guard parts[2].hasPrefix("RTSP/") || parts[2].hasPrefix("HTTP/") || parts[2].hasPrefix("ICY") else {
            return .malformed("bad protocol version")
        }
        guard lines.count - 1 <= maxHeaders else { return .malformed("more than \(maxHeaders) headers") }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { return .malformed("bad header line") }
            let name = String(line[..<colon])
            guard name.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else { return .malformed("bad header name") }
            headers.append((name, String(line[line.index(after: colon)...]).trimmingWhitespace()))
        }
        return .head(RequestHead(method: parts[0], target: parts[1], version: parts[2], headers: headers), consumed: end.bodyStart)
    }
}

extension String {
    /// Accepts Latin-1 bytes too: old clients send them in header values.
    public init?(validatingUTF8Bytes bytes: ArraySlice<UInt8>) {
        guard bytes.allSatisfy({ $0 != 0 }) else { return nil }
        self = String(bytes.map { Character(Unicode.Scalar($0)) })
    }

    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
