import Mechanisms
import PrivateTraining

/// A simulation's clients: one data set held together, and which examples each client holds.
public struct FederatedData: Sendable {
    /// Every client's examples (features scaled as the pipeline declares).
    public var examples: Dataset
    /// The example indices of each client.
    public var clients: [[Int]]
    /// The optional test split, for the operator's own evaluation.
    public var test: Dataset?
    /// Whether the set of clients is public (a split's configured clients) or a function of the private data (the
    /// distinct values of a column). Only a public population's realised counts may be shown (docs/design.md §2
    /// rule 7): how many clients of a data-derived population a round reached reveals how many there are.
    public var populationIsPublic: Bool

    /// Clients as given.
    public init(examples: Dataset, clients: [[Int]], test: Dataset? = nil, populationIsPublic: Bool) {
        self.examples = examples
        self.clients = clients
        self.test = test
        self.populationIsPublic = populationIsPublic
    }

    /// Loads the pipeline's data and deals it to clients as its `federated.clients` says.
    /// - Throws: `VeilError.invalidInput` when the data or the client column cannot be read.
    public static func load(_ pipeline: FederatedPipeline) throws -> FederatedData {
        let (train, test) = try pipeline.base.loadData()
        switch pipeline.federated.clients {
        case .column(let column):
            guard case .sqlite(let database, let table, _, _) = pipeline.base.data else {
                throw VeilError(.invalidInput, "federated.clients.column needs data.format sqlite")
            }
            var keys = try ClientColumnReader.keys(databasePath: database, table: table, column: column)
            if keys.count > train.count { keys = Array(keys.prefix(train.count)) }  // data.limit
            return FederatedData(examples: train, clients: ClientPartition.byKey(keys), test: test,
                                 populationIsPublic: false)
        case .split(let count, let skew, let seed):
            return FederatedData(examples: train,
                                 clients: ClientPartition.split(labels: train.labels, classCount: train.classCount,
                                                                count: count, skew: skew, seed: seed),
                                 test: test, populationIsPublic: true)
        }
    }
}
