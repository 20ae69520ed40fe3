import _TestSupport
import Foundation
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite("CSV data")
struct CSVLoaderTests {
    private func write(_ text: String) throws -> String {
        let url = TemporaryDirectory.file("csv", extension: "csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("columns by name, quoted fields, values as written")
    func load() throws {
        let path = try write("id,\"age\",income,label\n1,20,10,0\n2,30,30,1\n3,40,20,1\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let data = try CSVLoader.load(path: path, labelColumn: "label", featureColumns: ["age", "income"], classCount: 2)
        #expect(data.count == 3 && data.inputShape.count == 2)
        #expect(data.labels == [0, 1, 1])
        #expect(data.features.storage == [20, 10, 30, 30, 40, 20])
        let all = try CSVLoader.load(path: path, labelColumn: "label", featureColumns: nil, classCount: 2)
        #expect(all.inputShape.count == 3)
    }

    @Test("declared bounds clamp and scale onto [-1, 1]; invalid bounds and unknown columns are refused")
    func declaredScaling() throws {
        let bounds = try FeatureBounds(lower: 0, upper: 10, column: "x")
        #expect([-3, 0, 2.5, 5, 10, 2e19].map { bounds.scaled($0) } == [-1, -1, -0.5, 0, 1, 1])
        var features = Matrix(rows: 2, columns: 2, storage: [5, 7, -1e30, 7])
        try DeclaredFeatureScaling(bounds: ["x": bounds], featureNames: ["x", "raw"]).apply(to: &features)
        #expect(features.storage == [0, 7, -1, 7])
        for (lower, upper) in [(1.0, 1.0), (2, 1), (0, .infinity), (.nan, 1), (0, 1e13)] {
            #expect(throws: VeilError.self) { try FeatureBounds(lower: lower, upper: upper, column: "x") }
        }
        #expect(throws: VeilError.self) { try DeclaredFeatureScaling(bounds: ["y": bounds], featureNames: ["x"]) }
    }

    @Test("a raw value beyond ±1e12 is refused unless its column has declared bounds, which clamp it")
    func absurdValues() throws {
        // 2e19 squared overflows Float: unbounded, such a value would reach a gradient norm as +Inf.
        let path = try write("a,b,label\n1,2,0\n2e19,3,1\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try CSVLoader.load(path: path, labelColumn: "label", featureColumns: nil, classCount: 2)
        } throws: { error in
            (error as? VeilError)?.message == "\(path) line 3, column \"a\": the value exceeds ±1000000000000.0, the largest raw "
                + "feature value accepted; declare data.feature_bounds for this column to clamp its values"
        }
        let bounded = try CSVLoader.load(path: path, labelColumn: "label", featureColumns: nil, classCount: 2,
                                         boundedColumns: ["a"])
        #expect(bounded.features.storage == [1, 2, 2e19, 3])
    }

    @Test("labels out of range, missing columns and non-numbers are refused")
    func refused() throws {
        let path = try write("x,label\n1,0\n2,5\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: VeilError.self) { try CSVLoader.load(path: path, labelColumn: "label", featureColumns: nil, classCount: 2) }
        #expect(throws: VeilError.self) { try CSVLoader.load(path: path, labelColumn: "y", featureColumns: nil, classCount: 6) }
        let bad = try write("x,label\nabc,0\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        #expect(throws: VeilError.self) { try CSVLoader.load(path: bad, labelColumn: "label", featureColumns: nil, classCount: 2) }
        #expect(throws: VeilError.self) { try CSVLoader.load(path: "/no/such.csv", labelColumn: "label", featureColumns: nil, classCount: 2) }
    }
}
