/// How a value from the command line or a profile is echoed back in a message: at most
/// `limit` characters, then "...", and control characters written as `\u{...}` escapes, so a
/// megabyte-long or terminal-hostile value never floods or rewrites the admin's screen.
public enum Shown {
    public static let limit = 80

    public static func value(_ text: some StringProtocol, limit: Int = Shown.limit) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                out += "..."
                break
            }
            if isUnsafe(scalar) {
                out += "\\u{\(String(scalar.value, radix: 16))}"
            } else {
                out.unicodeScalars.append(scalar)
            }
            count += 1
        }
        return out
    }

    /// C0 and C1 controls, DEL, line and paragraph separators, and the bidirectional overrides
    /// and isolates that can make text display differently from what it is.
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00...0x1F, 0x7F...0x9F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069, 0x200E, 0x200F, 0x061C, 0xFEFF: return true
        default: return false
        }
    }
}
