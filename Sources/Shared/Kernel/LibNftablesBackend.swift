import CNftGeneration
import CNftables
import FirewallState
import FoundationEssentials
import PortModel

#if canImport(Glibc)
    import Glibc
#endif

/// The real backend: libnftables, in-process, through its JSON API.
///
/// This is the only file that imports libnftables. One context is kept and used under a lock,
/// because a libnftables context is not safe to share between threads. The library is loaded,
/// and the context made, by the first command sent (`CNftables`): a backend that only reads the
/// ruleset generation never loads it.
public final class LibNftablesBackend: NftablesBackend, @unchecked Sendable {
    private var loaded: (api: portctl_nft_api, context: OpaquePointer)?
    private let lock = Lock()
    /// The socket `generation()` asks on, opened on first use and closed with the backend (at exit
    /// for the live program): see `portctl_nft_generation_socket`.
    private var generationSocket: Int32 = -1
    private var generationSequence: UInt32 = 0
    /// Set by the first command that could commit (not a dry run, not a listing).
    private var committed = false

    public init() {}

    deinit {
        if generationSocket >= 0 { close(generationSocket) }
        if let (api, context) = loaded { api.nft_ctx_free(context) }
    }

    /// The library and the context, loaded on first use (the lock held).
    private func library() throws(NftablesError) -> (api: portctl_nft_api, context: OpaquePointer) {
        if let loaded { return loaded }
        guard let api = portctl_nft_load()?.pointee, let context = api.nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else {
            let reason = portctl_nft_load_error().map { String(cString: $0) } ?? "libnftables could not make a context"
            throw NftablesError(kind: .unavailable, message: reason)
        }
        _ = api.nft_ctx_buffer_output(context)
        _ = api.nft_ctx_buffer_error(context)
        loaded = (api, context)
        return (api, context)
    }

    public func run(_ batch: JSONValue, check: Bool) throws(NftablesError) {
        // libnftables 1.0.6 has no input-format flag: it reads JSON input only with JSON output on.
        if !check { lock.withLock { committed = true } }
        _ = try execute(batch.compact, dryRun: check, flags: UInt32(NFT_CTX_OUTPUT_JSON))
    }

    /// Called just before the process exits: after a commit, a child holds the netfilter sockets
    /// until the kernel's clean-up after that commit is done, so the exit does not wait for it
    /// (`portctl_nft_hand_over_sockets`). Without a commit, nothing.
    public func handOverSocketsAtExit() {
        guard lock.withLock({ committed }) else { return }
        _ = portctl_nft_hand_over_sockets()
    }

    public func listRuleset(json: Bool, stateless: Bool) throws(NftablesError) -> String {
        var flags: UInt32 = 0
        if json { flags |= UInt32(NFT_CTX_OUTPUT_JSON) }
        if stateless { flags |= UInt32(NFT_CTX_OUTPUT_STATELESS) }
        if json {
            let command = JSONValue.object([("nftables", .array([.object([("list", .object([("ruleset", .null)]))])]))])
            return try execute(command.compact, dryRun: false, flags: flags)
        }
        // A fixed command: nothing from a profile or the command line is pasted into it.
        return try execute("list ruleset", dryRun: false, flags: flags)
    }

    public func listTable(family: String, name: String) throws(NftablesError) -> String? {
        let reference = JSONValue.object([("family", .string(family)), ("name", .string(name))])
        let command = JSONValue.object([("nftables", .array([.object([("list", .object([("table", reference)]))])]))])
        do {
            return try execute(command.compact, dryRun: false, flags: UInt32(NFT_CTX_OUTPUT_JSON) | UInt32(NFT_CTX_OUTPUT_STATELESS))
        } catch {
            // "No such file or directory": the table is not there, which is an answer, not a failure.
            if error.kind == .rejected, error.message.contains("No such file or directory") { return nil }
            throw error
        }
    }

    public func listTables() throws(NftablesError) -> String {
        let command = JSONValue.object([("nftables", .array([.object([("list", .object([("tables", .null)]))])]))])
        return try execute(command.compact, dryRun: false, flags: UInt32(NFT_CTX_OUTPUT_JSON))
    }

    /// One table's handle, asked of the kernel on the generation socket (NFT_MSG_GETTABLE): no
    /// library, no dump of every table. Falls back on `list tables` when the request fails.
    public func tableHandle(family: String, name: String) throws(NftablesError) -> Int {
        if let handle = try kernelTableHandle(family: family, name: name) { return handle }
        return try tableHandleFromListing(family: family, name: name)
    }

    /// The kernel's own answer for one table: its handle, 0 when there is no such table, nil when
    /// the request could not be made or answered (an unknown family, say). Refused: thrown.
    public func kernelTableHandle(family: String, name: String) throws(NftablesError) -> Int? {
        let code: UInt8? =
            switch family {
            case "inet": 1
            case "ip": 2
            case "ip6": 10
            case "arp": 3
            case "bridge": 7
            case "netdev": 5
            default: nil
            }
        guard let code else { return nil }
        let answer = lock.withLock { () -> (Int32, UInt64, Int32) in
            guard openGenerationSocket() else { return (-1, 0, 0) }
            generationSequence &+= 1
            var handle: UInt64 = 0
            var error: Int32 = 0
            return (portctl_nft_table_handle(generationSocket, generationSequence, code, name, &handle, &error), handle, error)
        }
        switch answer.0 {
        case 0: return Int(truncatingIfNeeded: answer.1)
        case 1: return 0
        default:
            if answer.2 == EPERM || answer.2 == EACCES {
                throw NftablesError(kind: .permission, message: String(cString: strerror(answer.2)))
            }
            return nil
        }
    }

    public func namespaceCookie() -> UInt64? {
        lock.withLock { () -> UInt64? in
            var cookie: UInt64 = 0
            return openGenerationSocket() && portctl_netns_cookie(generationSocket, &cookie) == 0 ? cookie : nil
        }
    }

    public func generation() -> UInt32? {
        lock.withLock { () -> UInt32? in
            guard openGenerationSocket() else { return nil }
            generationSequence &+= 1
            var value: UInt32 = 0
            return portctl_nft_generation(generationSocket, generationSequence, &value) == 0 ? value : nil
        }
    }

    /// Opens the generation socket on first use (the lock held); whether it is open.
    private func openGenerationSocket() -> Bool {
        if generationSocket < 0 { generationSocket = portctl_nft_generation_socket() }
        return generationSocket >= 0
    }

    private func execute(_ text: String, dryRun: Bool, flags: UInt32) throws(NftablesError) -> String {
        try lock.withLock { () throws(NftablesError) -> String in
            let (api, context) = try library()
            api.nft_ctx_set_dry_run(context, dryRun)
            api.nft_ctx_output_set_flags(context, flags)
            let status = api.nft_run_cmd_from_buffer(context, text)
            let output = api.nft_ctx_get_output_buffer(context).map { String(cString: $0) } ?? ""
            let error = api.nft_ctx_get_error_buffer(context).map { String(cString: $0) } ?? ""
            api.nft_ctx_set_dry_run(context, false)
            guard status == 0 else {
                let message = error.trimmingWhitespace()
                let denied = message.contains("Operation not permitted") || message.contains("Permission denied")
                throw NftablesError(
                    kind: denied ? .permission : .rejected, message: message.isEmpty ? "libnftables returned \(status)" : message)
            }
            return output
        }
    }
}
