extension BlockingAnalyzer {
    /// Three-valued logic: a match on something portctl cannot know about the packet is `maybe`.
    enum Tri: Equatable {
        case yes, no, maybe

        init(_ value: Bool) { self = value ? .yes : .no }

        func and(_ other: Tri) -> Tri {
            if self == .no || other == .no { return .no }
            return self == .maybe || other == .maybe ? .maybe : .yes
        }

        func or(_ other: Tri) -> Tri {
            if self == .yes || other == .yes { return .yes }
            return self == .maybe || other == .maybe ? .maybe : .no
        }

        var negated: Tri {
            switch self {
            case .yes: return .no
            case .no: return .yes
            case .maybe: return .maybe
            }
        }
    }
}
