import ArgumentParser
import CommandSupport
import FirewallState
import FoundationEssentials
import Glibc
import HostInspection
import KnockAuth
import NftablesKernel
import PlanRendering
import PortModel
import PortPlanning
import PortProbe
import PortProfiles
import StreamWire

/// The portctl command: plans, applies and checks the firewall openings of a streaming server.
@main
struct Portctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "portctl",
        abstract: "Plan the firewall openings a streaming-media server needs, from declarative profiles.",
        discussion: """
            portctl knows which ports Darwin/QuickTime Streaming Server, RTSP, RTMP and its variants, \
            MMS, RealAudio PNA, HTTP streaming, Shoutcast/Icecast, MediaMTX, nginx-rtmp and Wowza need, \
            and why. It prints them as a table, JSON, nftables rules, a firewalld service, a ufw \
            application profile or iptables-restore input.

            EXAMPLES:
              portctl plan dss
              portctl plan dss rtmp --port80 --admin-from 192.0.2.0/24 --broadcaster 198.51.100.7
              portctl plan dss --format nft | nft -c -f -
              portctl conflicts dss --port80
              portctl apply dss --admin-from 192.0.2.0/24 --confirm 60
              portctl status
              portctl profiles list
              portctl profiles check my-server.yaml

            EXIT STATUS: 0 success; 1 the kernel refused a change, or status/doctor found a problem; \
            2 a port conflict; 3 rolled back (not confirmed); 4 refused: would cut off this SSH session; \
            64 usage error; 65 a profile is invalid; 66 a file cannot be read; 70 internal error; \
            73 state cannot be written; 75 busy; 77 permission denied. See portctl(8).
            """,
        version: PortctlVersion.current,
        subcommands: [
            PlanCommand.self, ApplyCommand.self, ConfirmCommand.self, RollbackCommand.self, RemoveCommand.self,
            HistoryCommand.self, StatusCommand.self, DoctorCommand.self, ConflictsCommand.self, ProbeCommand.self, ProfilesCommand.self,
            WatchdogCommand.self,
        ]
    )

    /// The program: every command runs on the live context; the same runner serves in-process tests.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // The one answer that needs no parsing, given before the argument parser starts.
        if arguments == ["--version"] {
            DescriptorWriter.write(PortctlVersion.current + "\n", to: STDOUT_FILENO)
            Glibc.exit(0)
        }
        let status = run(arguments, in: .live(programName: "portctl", backend: { Kernel.shared }))
        // After a commit, the kernel's clean-up is waited out by a child, not by the caller.
        Kernel.shared.handOverSocketsAtExit()
        // Everything is written with write(2) (DescriptorWriter); stdio is flushed for anything
        // else. _exit skips the loaded libraries' destructors, 0.3 ms that change nothing.
        fflush(nil)
        Glibc._exit(status)
    }

    /// One libnftables context for the process, made on first use: `plan` never makes one, and
    /// `apply` keeps its netlink sockets open until exit (see LibNftablesBackend.generation).
    enum Kernel {
        static let shared = LibNftablesBackend()
    }

    /// Runs a command line on `context`; its exit status.
    static func run(_ arguments: [String], in context: CommandContext) -> Int32 {
        CommandRunner.run(Portctl.self, arguments: arguments, in: context)
    }
}

enum PortctlVersion {
    static let current = ToolVersion.current
}
