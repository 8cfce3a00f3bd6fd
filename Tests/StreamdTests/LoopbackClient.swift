import CNIOLinux
import Foundation
import StreamWire

/// A blocking client on real loopback sockets, for tests that talk to a running `StreamServer`.
/// Every wait is bounded by `timeout`.
struct LoopbackClient {
    static let timeout: Int32 = 2000

    enum Failure: Error { case socket(String) }

    /// A TCP connection to 127.0.0.1:`port`.
    static func connectTCP(_ port: Int) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard descriptor >= 0, connected == 0 else {
            close(descriptor)
            throw Failure.socket("connect to port \(port): \(String(cString: strerror(errno)))")
        }
        return descriptor
    }

    static func loopback(_ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    static func send(_ descriptor: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Foundation.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until `done` says the bytes are whole, the peer closes, or the timeout passes.
    static func receive(_ descriptor: Int32, until done: ([UInt8]) -> Bool) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !done(received) {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, timeout) > 0 else { break }
            let got = recv(descriptor, &buffer, buffer.count, 0)
            guard got > 0 else { break }
            received += buffer[0..<got]
        }
        return received
    }

    /// A whole reply: its head, and as many body bytes as its Content-Length says.
    static func reply(_ descriptor: Int32) -> String {
        let bytes = receive(descriptor) { bytes in
            guard let end = HeadEnd.reply(in: bytes[...]) else { return false }
            let head = String(decoding: bytes[0..<end.headLength], as: UTF8.self)
            let length =
                head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
            return bytes.count >= end.bodyStart + length
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Sends `request` from a fresh UDP socket to 127.0.0.1:`port`; the first datagram back.
    static func exchangeUDP(_ port: Int, _ request: [UInt8]) -> [UInt8]? {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        var address = loopback(port)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var buffer = [UInt8](repeating: 0, count: 512)
        for _ in 0..<3 {
            _ = request.withUnsafeBytes { Foundation.send(descriptor, $0.baseAddress, $0.count, 0) }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 300) > 0 else { continue }
            let got = recv(descriptor, &buffer, buffer.count, 0)
            return got > 0 ? Array(buffer[0..<got]) : nil
        }
        return nil
    }
}
