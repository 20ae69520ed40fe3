import ArgumentParser
import Foundation
import TrustedExecution

struct EnclaveMeasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure",
        abstract: "The SHA-384 measurement of a Veil enclave: binary, model files (with their cards), serving configuration.",
        discussion: HelpText.reflow("""
        The same inputs always give the same value; the manifest that is hashed is printed with --manifest.

        Examples:
          veil enclave measure --binary .build/release/veil --model models/mnist.safetensors --config serve.yaml
        """)
    )

    @Option(help: "The veil binary the enclave runs.")
    var binary: String

    @Option(help: "A model file it serves (repeat for several).")
    var model: [String] = []

    @Option(help: "Its serving configuration file (ZDR settings, bind, policy).")
    var config: String?

    @Flag(help: "Also print the canonical manifest that is hashed.")
    var manifest = false

    @Flag(help: "Print one JSON object: measurement, manifest.")
    var json = false

    func run() throws {
        try EnclaveCLI.run {
            let measurement = try EnclaveMeasurement(binary: URL(fileURLWithPath: binary),
                                                     models: model.map { URL(fileURLWithPath: $0) },
                                                     configuration: config.map { URL(fileURLWithPath: $0) })
            if json {
                let object: [String: String] = ["measurement": measurement.hex, "manifest": measurement.manifest]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                if manifest { print(measurement.manifest, terminator: "") }
                print(measurement.hex)
            }
        }
    }
}
