import HummingbirdTLS
import Mechanisms


/// TLS for Veil's HTTP servers and clients (`veil serve`, `veil service`, `veil federated serve/join`): PEM files in,
/// swift-nio-ssl configurations out, with one clear error when a file cannot be read.
public enum ServerTLS {
    /// A server configuration from a PEM certificate chain and a PEM private key.
    /// - Throws: `VeilError.invalidParameter` naming the files when either cannot be read.
    public static func serverConfiguration(certificate: String, key: String) throws -> TLSConfiguration {
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(certificate)
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            return TLSConfiguration.makeServerConfiguration(certificateChain: certificates.map { .certificate($0) },
                                                            privateKey: .privateKey(privateKey))
        } catch {
            throw VeilError(.invalidParameter, "cannot read the TLS certificate \(certificate) or key \(key): \(error)")
        }
    }

    /// A client configuration that verifies servers against the system's roots, or only against the PEM
    /// certificates in `certificateAuthority` when given (a private CA or a self-signed server certificate).
    /// - Throws: `VeilError.invalidParameter` when the file cannot be read.
    public static func clientConfiguration(certificateAuthority: String?) throws -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let certificateAuthority {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificateAuthority))
            } catch {
                throw VeilError(.invalidParameter, "cannot read the CA certificate \(certificateAuthority): \(error)")
            }
        }
        return configuration
    }
}
