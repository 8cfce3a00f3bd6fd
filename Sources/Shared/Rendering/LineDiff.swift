import PortModel
import PortPlanning

/// A small line diff for showing what an apply changes: `-` removed, `+` added, ` ` kept.
public enum LineDiff {
    /// Changed lines only, with up to `context` unchanged lines around each change.
    public static func unified(old: String, new: String, context: Int = 2) -> [String] {
        if old == new { return [] }
        let a = old.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = new.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if a == b { return [] }
        let lines = diff(a, b)
        var keep = [Bool](repeating: false, count: lines.count)
        for (index, line) in lines.enumerated() where !line.hasPrefix(" ") {
            for near in max(0, index - context)...min(lines.count - 1, index + context) { keep[near] = true }
        }
        var result: [String] = []
        var skipped = false
        for (index, line) in lines.enumerated() {
            if keep[index] {
                result.append(line)
                skipped = false
            } else if !skipped {
                result.append("  ...")
                skipped = true
            }
        }
        return result
    }

    /// Longest-common-subsequence diff; for very large inputs, a cheaper set difference.
    static func diff(_ a: [String], _ b: [String]) -> [String] {
        if a.count * b.count > 4_000_000 {
            let inB = Set(b)
            let inA = Set(a)
            return a.filter { !inB.contains($0) }.map { "- " + $0 } + b.filter { !inA.contains($0) }.map { "+ " + $0 }
        }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                table[i][j] = a[i] == b[j] ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
            }
        }
        var result: [String] = []
        var i = 0
        var j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] {
                result.append("  " + a[i])
                i += 1
                j += 1
            } else if i < a.count, j == b.count || table[i + 1][j] >= table[i][j + 1] {
                result.append("- " + a[i])
                i += 1
            } else {
                result.append("+ " + b[j])
                j += 1
            }
        }
        return result
    }
}
