/// Random bytes from the system's generator, eight to a call. `UInt8.random` asks the kernel
/// (getrandom(2)) once per byte: an RTMP handshake's 1,528 random bytes were 1,528 system calls,
/// and a twenty-host probe's knock nonces 14,000 (bench/README.md, issue 16).
public enum RandomBytes {
    public static func make(_ count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(count + 7)
        while bytes.count < count {
            let word = generator.next()
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }
}
