/// Where a text head ends: the empty line after the request or status line and its headers.
/// streamd reads requests and the probe reads replies with this one type; the two differ only in
/// which newlines they accept. Offsets count from the start of the bytes given.
public struct HeadEnd: Equatable, Sendable {
    /// The head's bytes, without the empty line (see each rule for the last line's newline).
    public let headLength: Int
    /// Where what follows the head (a body, the next request) starts.
    public let bodyStart: Int

    public init(headLength: Int, bodyStart: Int) {
        self.headLength = headLength
        self.bodyStart = bodyStart
    }

    /// A request's head, as streamd reads it: it ends at "\r\n\r\n", "\n\n" or "\n\r\n", since nmap
    /// and hand-typed requests use bare newlines. `headLength` runs up to the last line's "\n"
    /// (its "\r", if any, stays in the head).
    public static func request(in bytes: ArraySlice<UInt8>) -> HeadEnd? {
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 10 {
                let head = index - bytes.startIndex
                if index + 1 < bytes.endIndex, bytes[index + 1] == 10 {
                    return HeadEnd(headLength: head, bodyStart: head + 2)
                }
                if index + 2 < bytes.endIndex, bytes[index + 1] == 13, bytes[index + 2] == 10 {
                    return HeadEnd(headLength: head, bodyStart: head + 3)
                }
            }
            index += 1
        }
        return nil
    }

    /// A reply's head, as the probe reads it: it ends at "\r\n\r\n" only, which every server it
    /// checks sends. `headLength` runs up to that "\r\n\r\n".
    public static func reply(in bytes: ArraySlice<UInt8>) -> HeadEnd? {
        guard bytes.count >= 4 else { return nil }
        for index in bytes.startIndex...(bytes.endIndex - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            let head = index - bytes.startIndex
            return HeadEnd(headLength: head, bodyStart: head + 4)
        }
        return nil
    }
}
