import PortModel

/// `[HOST]:PORT`, `PORT`, `[v6]:PORT`, `*:PORT`: a listen address as server configurations write it.
public struct ListenAddress: Sendable, Hashable {
    public let bind: BindAddress
    /// Nil when the text names only a host (`192.0.2.7`); the reader then applies its default port.
    public let port: PortNumber?

    public init(bind: BindAddress, port: PortNumber?) {
        self.bind = bind
        self.port = port
    }

    /// Parses a listen address. `what` names the directive in the error (`rtmpAddress`), and
    /// `example` shows a valid value (`:1935`). Hosts that are names other than `localhost` are
    /// refused: portctl cannot know which address a name resolves to when the server starts.
    public static func parse(_ raw: String, what: String, example: String) throws(ListenAddressError) -> ListenAddress {
        let text = raw.trimmingWhitespace()
        func fail(_ why: String) -> ListenAddressError {
            ListenAddressError(message: "\(what) '\(Shown.value(raw))': \(why); expected [HOST]:PORT, e.g. \(example)")
        }
        guard !text.isEmpty else { throw fail("empty") }
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw fail("'[' without ']'") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw fail("text after ']' must be :PORT") }
                portText = rest.dropFirst()
            }
        } else if text.allSatisfy({ $0.isASCII && $0.isNumber }) {
            host = ""
            portText = Substring(text)
        } else if let colon = text.lastIndex(of: ":") {
            let before = text[..<colon]
            if before.contains(":") {
                // A bare IPv6 address (`::`, `2001:db8::1`) has no port; with one it needs brackets.
                host = Substring(text)
                portText = nil
            } else {
                host = before
                portText = text[text.index(after: colon)...]
            }
        } else {
            host = Substring(text)
            portText = nil
        }
        var port: PortNumber?
        if let portText {
            guard !portText.isEmpty else { throw fail("no port after ':'") }
            do throws(ModelError) { port = try PortNumber(parsing: String(portText)) } catch { throw fail(error.description) }
        }
        let bind: BindAddress
        switch host {
        case "", "*": bind = .any
        case "localhost": bind = .loopback(String(host))
        default:
            guard let cidr = try? CIDR(parsing: String(host)), cidr.isHost else {
                throw fail("'\(Shown.value(String(host)))' is not an IP address (host names are not resolved; write the address)")
            }
            bind = classify(cidr, as: String(host))
        }
        return ListenAddress(bind: bind, port: port)
    }

    /// What binding to `cidr` (a host address) means, by its value, whatever its spelling:
    /// every address (`0.0.0.0`, `::`, `[::0]`), loopback (127.0.0.0/8, `::1`), or that one address.
    /// An IPv4-mapped IPv6 address (`::ffff:192.0.2.7`) receives the IPv4 address's packets.
    public static func classify(_ cidr: CIDR, as text: String) -> BindAddress {
        var address = cidr
        let bytes = cidr.bytes
        if cidr.family == .ipv6, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff,
            let mapped = try? CIDR(parsing: bytes[12..<16].map(String.init).joined(separator: "."))
        {
            address = mapped
        }
        if address.bytes.allSatisfy({ $0 == 0 }) { return .any }
        let loopbackV4 = try! CIDR(parsing: "127.0.0.0/8")
        let loopbackV6 = try! CIDR(parsing: "::1")
        return loopbackV4.contains(address) || address == loopbackV6 ? .loopback(text) : .address(address)
    }
}

public struct ListenAddressError: Error, Sendable, Hashable {
    /// The whole message, naming the directive and the value; the caller adds file and line.
    public let message: String
}
