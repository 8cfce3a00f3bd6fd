/// A response: status line, headers, body, rendered byte for byte.
public struct Response: Sendable, Equatable {
    public var version: String
    public var status: Int
    public var reason: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public static func == (lhs: Response, rhs: Response) -> Bool { lhs.bytes == rhs.bytes }

    public init(version: String, status: Int, reason: String, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    public var bytes: [UInt8] {
        var text = "\(version) \(status) \(reason)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        return Array(text.utf8) + body
    }
}
