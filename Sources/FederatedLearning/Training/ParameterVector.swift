import LinearAlgebra

/// A model's parameter tensors as one flat vector, the form in which updates travel and are aggregated.
public enum ParameterVector {
    /// The tensors' values concatenated in order.
    public static func flatten(_ tensors: [Matrix]) -> [Float] {
        var flat: [Float] = []
        flat.reserveCapacity(tensors.reduce(0) { $0 + $1.count })
        for t in tensors { flat.append(contentsOf: t.storage) }
        return flat
    }

    /// `vector` cut into tensors of the shapes of `like`.
    public static func unflatten(_ vector: [Float], like tensors: [Matrix]) -> [Matrix] {
        precondition(vector.count == tensors.reduce(0) { $0 + $1.count }, "vector length does not match the model")
        var offset = 0
        return tensors.map { t in
            defer { offset += t.count }
            return Matrix(rows: t.rows, columns: t.columns, storage: Array(vector[offset..<(offset + t.count)]))
        }
    }
}
