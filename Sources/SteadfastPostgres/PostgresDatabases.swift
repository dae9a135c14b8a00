import SteadfastStore

/// Creating and dropping whole databases on a server (the tests give each case its own).
public enum PostgresDatabases {
    /// Creates an empty database `name` on the server `url` names (a URL or connection string
    /// of a database the user may create databases from).
    public static func create(_ name: String, server url: String) throws {
        try run("CREATE DATABASE \(try identifier(name))", server: url)
    }

    /// Drops database `name`, disconnecting its sessions; nothing when it does not exist.
    public static func drop(_ name: String, server url: String) throws {
        try run("DROP DATABASE IF EXISTS \(try identifier(name)) WITH (FORCE)", server: url)
    }

    private static func run(_ sql: String, server url: String) throws {
        guard case .postgres(let conninfo) = try StoreLocation(parsing: url) else {
            throw InstanceStoreError(.invalidStoreURL, "'\(url)' is not a PostgreSQL URL.")
        }
        do {
            let connection = try PostgresConnection(conninfo: conninfo)
            defer { connection.close() }
            try connection.executeScript(sql)
        } catch let error as SQLDriverError {
            throw error.storeError
        }
    }

    private static func identifier(_ name: String) throws -> String {
        guard !name.isEmpty, name.count < 64,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        else {
            throw InstanceStoreError(.invalidRequest, "'\(name)' is not a plain database name (letters, digits, _).")
        }
        return name
    }
}
