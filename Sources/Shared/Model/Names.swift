/// The naming rules shared by profiles, openings, options and source sets.
///
/// Names end up in nftables set names, comments and file names, so they are kept to a safe
/// alphabet: nothing a profile says can be read as nft syntax.
public enum Names {
    public static let profileRule = "lowercase letters, digits and '-', starting with a letter or digit, at most 32 characters"
    public static let identifierRule = "lowercase letters, digits and '-', starting with a letter, at most 32 characters"

    public static func isProfileName(_ text: String) -> Bool {
        guard let first = text.first, text.count <= 32 else { return false }
        return (first.isLowercaseASCIILetter || first.isASCIIDigit)
            && text.allSatisfy { $0.isLowercaseASCIILetter || $0.isASCIIDigit || $0 == "-" }
    }

    public static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.first, text.count <= 32 else { return false }
        return first.isLowercaseASCIILetter
            && text.allSatisfy { $0.isLowercaseASCIILetter || $0.isASCIIDigit || $0 == "-" }
    }
}

extension Character {
    var isLowercaseASCIILetter: Bool { isASCII && isLowercase && isLetter }
    var isASCIIDigit: Bool { isASCII && isNumber }
}
