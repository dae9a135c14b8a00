/// How `wf serve --http` listens and what it accepts.
public struct HTTPServerOptions: Sendable, Hashable {
    /// The address to listen on (`127.0.0.1`, `0.0.0.0`, `::1`).
    public var host: String
    /// The port; 0 lets the system choose one (the server says which once it runs).
    public var port: Int
    /// When set, every route but `/healthz` requires `Authorization: Bearer TOKEN`.
    public var authToken: String?
    /// The largest request body accepted; a larger one is refused with 413.
    public var maxBodySize: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, authToken: String? = nil, maxBodySize: Int = 1 << 20) {
        self.host = host
        self.port = port
        self.authToken = authToken
        self.maxBodySize = maxBodySize
    }
}
