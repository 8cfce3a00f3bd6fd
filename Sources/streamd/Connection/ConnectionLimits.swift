/// Limits that keep slow or hostile clients from holding streamd's resources.
struct ConnectionLimits: Sendable {
    /// A request head and its body must be complete within this many seconds: of the connection for
    /// the first request, of the request's first byte for the next ones on a kept-alive connection
    /// (slowloris, and a client that sends half a head and falls silent).
    var headTimeout: Double = 10
    /// A connection that sends nothing for this long is closed.
    var idleTimeout: Int64 = 60
    var maxConnections = 20_000
}
