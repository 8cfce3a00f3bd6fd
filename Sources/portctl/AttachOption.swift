import CommandSupport
import PlanRendering

extension Placement {
    /// Parses `--attach 'inet filter input'`.
    init(attach text: String) throws(CommandFailure) {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard words.count == 3 else {
            throw .flag("--attach", "'\(text)' must be FAMILY TABLE CHAIN, e.g. 'inet filter input'")
        }
        guard Placement.families.contains(words[0]) else {
            throw .flag("--attach", "family '\(words[0])' is not supported (expected inet, ip or ip6)")
        }
        for word in words.dropFirst() where !Placement.isNftName(word) {
            throw .flag("--attach", "'\(word)' is not an nftables table or chain name (letters, digits, '_', '-', '.')")
        }
        self = .attach(family: words[0], table: words[1], chain: words[2])
    }
}
