/// The `Server` header values streamd answers with, in one place so that every protocol names
/// the same server and version.
public enum ServerHeader {
    /// streamd's own: RTSP, HTTP, the tunnel, ICY, RTMPT and the admin page.
    public static let streamd = "streamd/0.1"
    /// Windows Media Services' (Cougar), which MMSH players and nmap's probes expect from an MMS server.
    public static let windowsMedia = "Cougar/9.01.01.3814"
}
