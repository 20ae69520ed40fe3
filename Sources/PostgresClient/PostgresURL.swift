import Foundation
import Mechanisms

/// Where a PostgreSQL server is and how to reach it, parsed from a libpq-style connection URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=disable|require|verify-full&sslrootcert=FILE]`
/// (`postgresql://` is accepted too).
///
/// The password may also come from `$PGPASSWORD`. It is kept out of every printed form: ``redacted`` is what
/// messages, logs and ledger notes show.
///
/// TLS: `sslmode=disable` speaks in the clear; `require` and `verify-full` both verify the server's certificate
/// chain and host name (against `sslrootcert` when given, else the system's roots); unlike libpq, Veil never
/// encrypts without verifying. Without `sslmode`, a loopback host is reached in the clear and any other host
/// needs TLS, so data never crosses a network unencrypted unless the URL says so.
public struct PostgresURL: Sendable, Equatable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Equatable {
        case disable
        case verifyFull = "verify-full"
    }

    public let host: String
    public let port: Int
    public let user: String
    public let password: String?
    public let database: String
    public let tls: TLSMode
    /// A PEM file of certificates to trust for the server's chain (`sslrootcert`), if any.
    public let rootCertificatePath: String?

    /// Whether `string` names a PostgreSQL server rather than a file.
    public static func isPostgresURL(_ string: String) -> Bool {
        string.hasPrefix("postgres://") || string.hasPrefix("postgresql://")
    }

    /// Parses `string`.
    /// - Parameter environment: where `PGPASSWORD` is looked up when the URL has no password.
    /// - Throws: ``VeilError`` (`invalid_input`) naming what is wrong; the message never repeats a password.
    public init(_ string: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isPostgresURL(string), let components = URLComponents(string: string) else {
            throw VeilError(.invalidInput, "not a PostgreSQL URL (expected postgres://USER@HOST:PORT/DATABASE)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw VeilError(.invalidInput, "the PostgreSQL URL names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw VeilError(.invalidInput, "the PostgreSQL URL names no user (postgres://USER@\(host)/…)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            throw VeilError(.invalidInput, "the PostgreSQL URL names no database (postgres://\(user)@\(host)/DATABASE)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else {
            throw VeilError(.invalidInput, "PostgreSQL port \(port) is outside 1…65535")
        }
        var mode: TLSMode?
        var rootCertificate: String?
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value {
                case "disable": mode = .disable
                case "require", "verify-full": mode = .verifyFull
                default:
                    throw VeilError(.invalidInput, "sslmode must be disable, require or verify-full")
                }
            case "sslrootcert":
                guard let path = item.value, !path.isEmpty else {
                    throw VeilError(.invalidInput, "sslrootcert needs a file")
                }
                rootCertificate = path
            case "application_name", "connect_timeout":
                continue
            default:
                throw VeilError(.invalidInput, "unknown PostgreSQL URL parameter \(item.name)")
            }
        }
        self.host = host
        self.port = port
        self.user = user
        self.password = components.password ?? environment["PGPASSWORD"]
        self.database = database
        self.tls = mode ?? (LoopbackHost.contains(host) ? .disable : .verifyFull)
        self.rootCertificatePath = rootCertificate
        if tls == .disable, rootCertificate != nil {
            throw VeilError(.invalidInput, "sslrootcert is given but sslmode=disable turns TLS off")
        }
    }

    /// The URL without its password: `postgres://USER@HOST:PORT/DATABASE`.
    public var redacted: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    public var description: String { redacted }

    /// The same server, another database on it (for tools that create a database and then connect to it).
    public func withDatabase(_ name: String) -> PostgresURL {
        PostgresURL(host: host, port: port, user: user, password: password, database: name, tls: tls,
                    rootCertificatePath: rootCertificatePath)
    }

    private init(host: String, port: Int, user: String, password: String?, database: String, tls: TLSMode,
                 rootCertificatePath: String?) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.tls = tls
        self.rootCertificatePath = rootCertificatePath
    }
}
