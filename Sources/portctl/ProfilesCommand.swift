import ArgumentParser
import Foundation
import PortModel
import PortProfiles
import PortPlanning
import PlanRendering
import FirewallState
import NftablesKernel
import HostInspection
import PortProbe
import StreamWire
import KnockAuth
import CommandSupport

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
