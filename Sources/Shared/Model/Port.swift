/// A TCP or UDP port number, 1-65535. Port 0 cannot be opened and cannot be built.
public struct PortNumber: Sendable, Hashable, Comparable, CustomStringConvertible, Codable {
    public let value: UInt16

    public init(_ value: Int) throws(ModelError) {
        guard (1...65535).contains(value) else { throw ModelError.portOutOfRange(String(value)) }
        self.value = UInt16(value)
    }

    /// Parses decimal digits only: `-1`, `+5`, `0x50` and `abc` are refused.
    public init(parsing text: String) throws(ModelError) {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            if trimmed.hasPrefix("-"), trimmed.dropFirst().allSatisfy({ $0.isASCII && $0.isNumber }), trimmed.count > 1 {
                throw ModelError.portOutOfRange(trimmed)
            }
            throw ModelError.notAPort(trimmed)
        }
        guard trimmed.count <= 5, let number = Int(trimmed), (1...65535).contains(number) else {
            throw ModelError.portOutOfRange(trimmed)
        }
        self.value = UInt16(number)
    }

    public init(from decoder: Decoder) throws {
        let number = try decoder.singleValueContainer().decode(Int.self)
        do { try self.init(number) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Int(value))
    }

    public var description: String { String(value) }
    public static func < (lhs: PortNumber, rhs: PortNumber) -> Bool { lhs.value < rhs.value }
}

/// An inclusive range of ports, `low <= high`. A single port is a range with `low == high`.
public struct PortRange: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let low: PortNumber
    public let high: PortNumber

    public init(_ low: PortNumber, _ high: PortNumber) throws(ModelError) {
        guard low <= high else { throw ModelError.reversedRange("\(low)-\(high)") }
        self.low = low
        self.high = high
    }

    public init(single port: PortNumber) {
        self.low = port
        self.high = port
    }

    /// Parses `554` or `6970-6999`.
    public init(parsing text: String) throws(ModelError) {
        let trimmed = text.trimmingWhitespace()
        // A leading '-' is a negative number, not a range separator, so search after it.
        let body = Substring(trimmed)
        if let dash = body.dropFirst().firstIndex(of: "-") {
            guard dash != body.index(before: body.endIndex) else { throw ModelError.notAPort(trimmed) }
            let low = try PortNumber(parsing: String(body[..<dash]))
            let high = try PortNumber(parsing: String(body[body.index(after: dash)...]))
            guard low <= high else { throw ModelError.reversedRange(trimmed) }
            self = try PortRange(low, high)
        } else {
            self.init(single: try PortNumber(parsing: trimmed))
        }
    }

    public var count: Int { Int(high.value) - Int(low.value) + 1 }
    public var isSingle: Bool { low == high }

    public func contains(_ port: PortNumber) -> Bool { low <= port && port <= high }
    public func overlaps(_ other: PortRange) -> Bool { low <= other.high && other.low <= high }
    /// True when the two ranges overlap or touch, so that they can be written as one.
    public func touches(_ other: PortRange) -> Bool {
        Int(low.value) <= Int(other.high.value) + 1 && Int(other.low.value) <= Int(high.value) + 1
    }

    public var description: String { isSingle ? "\(low)" : "\(low)-\(high)" }

    public static func < (lhs: PortRange, rhs: PortRange) -> Bool {
        (lhs.low, lhs.high) < (rhs.low, rhs.high)
    }
}

/// A port range bound to one transport, written `554/tcp` or `6970-6999/udp`.
public struct PortSpec: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let range: PortRange
    public let transport: Transport

    public init(_ range: PortRange, _ transport: Transport) {
        self.range = range
        self.transport = transport
    }

    public init(parsing text: String) throws(ModelError) {
        let trimmed = text.trimmingWhitespace()
        guard let slash = trimmed.lastIndex(of: "/") else {
            _ = try PortRange(parsing: trimmed)
            throw ModelError.missingTransport(trimmed)
        }
        let transport = try Transport(parsing: String(trimmed[trimmed.index(after: slash)...]))
        let range = try PortRange(parsing: String(trimmed[..<slash]))
        self.init(range, transport)
    }

    public var description: String { "\(range)/\(transport.rawValue)" }

    public static func < (lhs: PortSpec, rhs: PortSpec) -> Bool {
        (lhs.transport, lhs.range) < (rhs.transport, rhs.range)
    }
}
