import ArgumentParser

/// `veil federated`: federated learning with client-level differential privacy.
struct FederatedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "federated",
        abstract: "Federated learning: FedAvg and DP-FedAvg with client-level privacy charged to the ledger.",
        discussion: HelpText.reflow("""
        A federated pipeline is a training pipeline (see `veil train --help`) with a `federated:` section that
        says where the clients come from (a column of a SQLite table, one client per distinct value, or a
        split of the data into N simulated clients), the rounds, the expected clients per round and the
        server's optimiser; see docs/federated.md.
        """),
        subcommands: [FederatedSimulateCommand.self, FederatedServeCommand.self, FederatedJoinCommand.self,
                      FederatedTokenCommand.self]
    )
}
