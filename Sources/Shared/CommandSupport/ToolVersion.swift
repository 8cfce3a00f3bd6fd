/// The version of portctl and streamd: the one place it is written. `--version` prints it,
/// `scripts/package` reads it for the Debian packages (whose changelog must agree), and a test
/// holds the man pages to it.
public enum ToolVersion {
    public static let current = "0.2.0"
}
