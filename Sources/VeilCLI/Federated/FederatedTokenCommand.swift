import ArgumentParser
import FederatedLearning
import Foundation
import Mechanisms

struct FederatedTokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make a bearer token for a client and add its SHA-256 to a server's roster.",
        discussion: HelpText.reflow("""
        Prints the token once (give it to the client, e.g. in its --token-file); the roster keeps only its \
        SHA-256, so the server never stores tokens.

        Example:
          veil federated token alice --roster /tmp/roster.txt
        """)
    )

    @Argument(help: "The client's id (letters, digits, - _ .).")
    var clientId: String

    @Option(help: "The roster file (created when missing).")
    var roster: String

    func run() throws {
        var bytes = [UInt8](repeating: 0, count: 32)
        var random = SecureRandomSource()
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: random.next()) }
        let token = bytes.map { String(format: "%02x", $0) }.joined()
        let digest = ClientRoster.digestHex(token: token)
        var entries: [(id: String, digestHex: String)] = []
        if FileManager.default.fileExists(atPath: roster) {
            let existing = try ClientRoster.load(path: roster)
            guard !existing.clients.contains(clientId) else {
                throw VeilError(.invalidInput, "\(roster) already lists client \(clientId)")
            }
        }
        entries.append((clientId, digest))
        _ = try ClientRoster(entries: entries)  // checks the id
        let line = "\(clientId) \(digest)\n"
        if let handle = FileHandle(forWritingAtPath: roster) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try handle.close()
        } else {
            guard FileManager.default.createFile(atPath: roster, contents: Data(line.utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw VeilError(.invalidInput, "cannot write the roster \(roster)")
            }
        }
        print(token)
    }
}
