/// An inclusion proof as it travels (JSON): the leaf's index, the tree size it is proved against, and the
/// audit path.
public struct InclusionProof: Sendable, Equatable, Codable {
    public let leafIndex: Int
    public let treeSize: Int
    public let path: [[UInt8]]

    public init(leafIndex: Int, treeSize: Int, path: [[UInt8]]) {
        self.leafIndex = leafIndex
        self.treeSize = treeSize
        self.path = path
    }

    enum CodingKeys: String, CodingKey { case leafIndex = "leaf_index", treeSize = "tree_size", path = "inclusion_path" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        leafIndex = try c.decode(Int.self, forKey: .leafIndex)
        treeSize = try c.decode(Int.self, forKey: .treeSize)
        path = try c.decode([String].self, forKey: .path).map { try LogHex.decodeHash($0, field: "inclusion_path") }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(leafIndex, forKey: .leafIndex)
        try c.encode(treeSize, forKey: .treeSize)
        try c.encode(path.map { LogHex.encode($0) }, forKey: .path)
    }
}

/// A consistency proof as it travels (JSON): from the tree of `oldSize` leaves to that of `newSize`.
public struct ConsistencyProof: Sendable, Equatable, Codable {
    public let oldSize: Int
    public let newSize: Int
    public let path: [[UInt8]]

    public init(oldSize: Int, newSize: Int, path: [[UInt8]]) {
        self.oldSize = oldSize
        self.newSize = newSize
        self.path = path
    }

    enum CodingKeys: String, CodingKey { case oldSize = "old_size", newSize = "new_size", path = "consistency_path" }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        oldSize = try c.decode(Int.self, forKey: .oldSize)
        newSize = try c.decode(Int.self, forKey: .newSize)
        path = try c.decode([String].self, forKey: .path).map { try LogHex.decodeHash($0, field: "consistency_path") }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(oldSize, forKey: .oldSize)
        try c.encode(newSize, forKey: .newSize)
        try c.encode(path.map { LogHex.encode($0) }, forKey: .path)
    }
}
