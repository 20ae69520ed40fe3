import BudgetLedger
import Foundation
import Mechanisms
import PrivateSQL

/// A configured dataset, opened: its privacy metadata, its ledger, and what an analyst may know about it.
public struct ServiceDataset: Sendable {
    /// The configuration entry.
    public let configuration: ServiceConfiguration.Dataset
    /// The privacy metadata; its `scope` is the budget every query on the dataset charges.
    public let metadata: PrivacyMetadata
    /// The open ledger.
    public let ledger: Ledger
    /// Read-only connections to the database, kept open between queries.
    let connections: ReadConnectionPool

    /// The name analysts use.
    public var name: String { configuration.name }
    /// The ledger budget charged.
    public var scope: String { metadata.scope }

    /// Loads the metadata, opens the ledger, and creates the budget when the configuration gives one and the
    /// ledger has none for the scope. The database must exist and be SQLite (it is opened read-only when the first
    /// query needs it, and the connection is kept for the next ones: see ``ReadConnectionPool``).
    /// - Parameter ledgers: ledgers already open, by path, so that datasets sharing a file share one connection.
    /// - Throws: `invalidInput` for a missing database or unreadable metadata; the ledger's errors; `unknownScope`
    ///   when the scope has no budget and the configuration gives none.
    init(_ configuration: ServiceConfiguration.Dataset, ledgers: inout [String: Ledger]) throws {
        self.configuration = configuration
        connections = ReadConnectionPool(path: configuration.database)
        guard FileManager.default.fileExists(atPath: configuration.database) else {
            throw VeilError(.invalidInput, "dataset \(configuration.name): no database at \(configuration.database)")
        }
        do {
            metadata = try PrivacyMetadata.load(contentsOf: URL(fileURLWithPath: configuration.metadata))
        } catch let error as QueryError {
            throw VeilError(error.code, "dataset \(configuration.name): \(error.description)")
        }
        if let open = ledgers[configuration.ledger] {
            ledger = open
        } else {
            ledger = try Ledger.open(location: configuration.ledger, mode: configuration.budget == nil ? .existing : .createIfMissing)
            ledgers[configuration.ledger] = ledger
        }
        if (try? ledger.budget(scope: metadata.scope)) == nil {
            guard let budget = configuration.budget else {
                throw VeilError(.unknownScope, "dataset \(configuration.name): the ledger \(configuration.ledger) has no budget "
                                + "\(metadata.scope); give one under `budget:` or create it with `veil budget create`")
            }
            let rule = try budget.composition.map { name in
                guard let rule = CompositionRule(rawValue: name) else {
                    throw VeilError.invalidParameter("composition", name, allowed: "basic, rdp or zcdp")
                }
                return rule
            } ?? .basic
            try ledger.createBudget(scope: metadata.scope, epsilon: budget.epsilon, delta: budget.delta, composition: rule)
        }
    }

    /// What an analyst needs to write a query, and nothing about the data: tables, their privacy unit and
    /// contribution bounds, columns with their type, clamping bounds and public values, and the budget's scope.
    public var description: [String: Any] {
        [
            "name": name,
            "scope": scope,
            "tables": metadata.tables.map { table -> [String: Any] in
                var object: [String: Any] = [
                    "name": table.name,
                    "max_partitions_per_unit": table.maxPartitionsPerUnit,
                    "max_rows_per_partition": table.maxRowsPerPartition,
                    "columns": table.columns.map { column -> [String: Any] in
                        var c: [String: Any] = ["name": column.name, "type": column.type.rawValue]
                        if let lower = column.lower { c["lower"] = lower }
                        if let upper = column.upper { c["upper"] = upper }
                        if let values = column.publicValues { c["public_values"] = values.map(\.jsonValue) }
                        if table.isPrivacyUnit(column.name) { c["privacy_unit"] = true }
                        return c
                    },
                ]
                switch table.privacyUnit {
                case .row: object["row_privacy"] = true
                case .column(let name): object["privacy_unit"] = name
                }
                if let rows = table.maxRowsPerUnit { object["max_rows_per_unit"] = rows }
                return object
            },
        ]
    }
}
