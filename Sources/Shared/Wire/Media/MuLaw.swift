/// G.711 µ-law, the codec of RTP payload type 0 (PCMU): 8-bit samples at 8 kHz.
public enum MuLaw {
    static let bias = 0x84
    static let clip = 32635

    /// Encodes one 16-bit linear PCM sample (ITU-T G.711).
    public static func encode(_ sample: Int16) -> UInt8 {
        var value = Int(sample)
        let sign = value < 0 ? 0x80 : 0
        if value < 0 { value = -value }
        value = min(value, clip) + bias
        var exponent = 7
        var mask = 0x4000
        while exponent > 0, value & mask == 0 {
            exponent -= 1
            mask >>= 1
        }
        let mantissa = (value >> (exponent + 3)) & 0x0F
        return ~UInt8(sign | (exponent << 4) | mantissa)
    }

    /// Decodes one µ-law byte back to linear PCM.
    public static func decode(_ byte: UInt8) -> Int16 {
        let value = Int(~byte)
        let sign = value & 0x80
        let exponent = (value >> 4) & 0x07
        let mantissa = value & 0x0F
        let magnitude = ((mantissa << 3) + bias) << exponent
        return Int16(sign != 0 ? bias - magnitude : magnitude - bias)
    }
}

/// A continuous sine tone as µ-law frames: the test stream's audio, made in code, with no files.
public struct ToneGenerator: Sendable {
    public let frequency: Double
    public let sampleRate: Double
    public let amplitude: Double
    private(set) var sampleIndex = 0

    public init(frequency: Double = 1000, sampleRate: Double = 8000, amplitude: Double = 8000) {
        self.frequency = frequency
        self.sampleRate = sampleRate
        self.amplitude = amplitude
    }

    /// The next `count` samples, µ-law encoded; the phase carries over from frame to frame.
    public mutating func nextFrame(samples count: Int = 160) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(count)
        let rate = Int(sampleRate)
        let hertz = Int(frequency)
        for _ in 0..<count {
            // The phase in whole samples, so that it never drifts: frame N equals frame 0 whenever
            // the tone fits the frame, as 1 kHz does at 8 kHz.
            let fraction = Double((sampleIndex % rate) * hertz % rate) / sampleRate
            frame.append(MuLaw.encode(Int16(amplitude * sinApproximation(2 * Double.pi * fraction))))
            sampleIndex += 1
        }
        return frame
    }

    /// sin without Foundation, for a phase in [0, 2π): folded into [-π/2, π/2], where a
    /// 9th-order Taylor series is accurate to 4e-6.
    func sinApproximation(_ x: Double) -> Double {
        var phase = x > Double.pi ? x - 2 * Double.pi : x
        if phase > Double.pi / 2 { phase = Double.pi - phase }
        if phase < -Double.pi / 2 { phase = -Double.pi - phase }
        let p2 = phase * phase
        return phase * (1 - p2 / 6 * (1 - p2 / 20 * (1 - p2 / 42 * (1 - p2 / 72))))
    }
}
