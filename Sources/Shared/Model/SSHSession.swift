/// The SSH session a command runs in (from `SSH_CONNECTION`): an apply must not cut it off.
public struct SSHSession: Sendable, Hashable {
    public let client: String
    public let serverPort: PortNumber

    public init(client: String, serverPort: PortNumber) {
        self.client = client
        self.serverPort = serverPort
    }
}
