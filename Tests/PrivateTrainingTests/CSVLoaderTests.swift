import Foundation
import LinearAlgebra
import Mechanisms
import Testing
@testable import PrivateTraining

@Suite("CSV data")
struct CSVLoaderTests {
    private func write(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("veil-csv-\(UUID().uuidString).csv")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("columns by name, quoted fields, standardisation fitted on the training split")
    func loadAndStandardise() throws {
        let path = try write("id,\"age\",income,label\n1,20,10,0\n2,30,30,1\n3,40,20,1\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        var data = try CSVLoader.load(path: path, labelColumn: "label", featureColumns: ["age", "income"], classCount: 2)
        #expect(data.count == 3 && data.inputShape.count == 2)
        #expect(data.labels == [0, 1, 1])
        let s = Standardization(fittedOn: data.features)
        #expect(abs(s.means[0] - 30) < 1e-5 && abs(s.means[1] - 20) < 1e-5)
        s.apply(to: &data.features)
        let sums = data.features.columnSums()
        #expect(abs(sums[0]) < 1e-5 && abs(sums[1]) < 1e-5)
        #expect(abs(data.features.rowSquaredNorms().reduce(0, +) - 6) < 1e-4)  // unit variance per column
        let all = try CSVLoader.load(path: path, labelColumn: "label", featureColumns: nil, classCount: 2)
        #expect(all.inputShape.count == 3)
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
