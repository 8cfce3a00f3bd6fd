import ArgumentParser
import CommandSupport
import FirewallState
import FoundationEssentials
import HostInspection
import KnockAuth
import NftablesKernel
import PlanRendering
import PortModel
import PortPlanning
import PortProbe
import PortProfiles
import StreamWire

/// `portctl profiles`: list, show and check profiles.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "List, show and check profiles.",
        discussion: """
            Profiles are read from --profile-dir, ~/.config/portctl/profiles, /etc/portctl/profiles.d \
            and the profiles bundled into portctl, in that order: the first file with a name wins. \
            The format is described in portctl-profile(5).
            """,
        subcommands: [ProfilesListCommand.self, ProfilesShowCommand.self, ProfilesCheckCommand.self]
    )
}
