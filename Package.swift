// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "Veil",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Mechanisms", targets: ["Mechanisms"]),
        .library(name: "Accounting", targets: ["Accounting"]),
        .library(name: "BudgetLedger", targets: ["BudgetLedger"]),
        .library(name: "PrivateSQL", targets: ["PrivateSQL"]),
        .library(name: "LinearAlgebra", targets: ["LinearAlgebra"]),
        .library(name: "PrivateTraining", targets: ["PrivateTraining"]),
        .library(name: "TrustedExecution", targets: ["TrustedExecution"]),
        .library(name: "LocalInference", targets: ["LocalInference"]),
        .library(name: "TransparencyLog", targets: ["TransparencyLog"]),
        .library(name: "ConfidentialInference", targets: ["ConfidentialInference"]),
        .library(name: "QueryService", targets: ["QueryService"]),
        .library(name: "FederatedLearning", targets: ["FederatedLearning"]),
        .library(name: "SecureAggregation", targets: ["SecureAggregation"]),
        .library(name: "PostgresClient", targets: ["PostgresClient"]),
        .library(name: "PrivacyAudit", targets: ["PrivacyAudit"]),
        .library(name: "CheckedYAML", targets: ["CheckedYAML"]),
        .executable(name: "veil", targets: ["VeilCLI"]),
        .executable(name: "veil-bench", targets: ["VeilBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.3.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // MARK: System libraries (Debian: libgsl-dev, libopenblas-dev)
        // GSL's CBLAS calls go to OpenBLAS (module.modulemap links it instead of the reference
        // libgslcblas, whose unoptimised cblas_* symbols would otherwise shadow OpenBLAS's).
        .systemLibrary(
            name: "CGSL",
            providers: [.apt(["libgsl-dev"])]
        ),
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .systemLibrary(name: "CMalloc"),
        .systemLibrary(name: "CProcessControl"),

        // MARK: Libraries
        .target(
            name: "Mechanisms",
            dependencies: ["CGSL", .product(name: "BigInt", package: "BigInt")]
        ),
        .target(
            name: "CheckedYAML",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "Accounting",
            dependencies: ["Mechanisms", "CGSL"]
        ),
        .target(
            name: "BudgetLedger",
            dependencies: [
                "Accounting",
                "PostgresClient",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "PrivateSQL",
            dependencies: [
                "Mechanisms", "Accounting", "BudgetLedger", "PostgresClient",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"), "CheckedYAML",
            ]
        ),
        .target(
            name: "LinearAlgebra",
            dependencies: ["CBLAS"]
        ),
        .target(
            name: "PrivateTraining",
            dependencies: [
                "LinearAlgebra", "Mechanisms", "Accounting", "BudgetLedger", "CZlib", "CMalloc", "CGSL",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"), "CheckedYAML",
            ]
        ),
        .target(
            name: "TrustedExecution",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Yams", package: "Yams"), "CheckedYAML",
            ]
        ),
        .target(
            name: "LocalInference",
            dependencies: [
                "ServerTLS",
                "PrivateTraining", "LinearAlgebra", "Mechanisms", "BudgetLedger", "CProcessControl",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "TransparencyLog",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "ConfidentialInference",
            dependencies: [
                "LocalInference", "PrivateTraining", "TrustedExecution", "TransparencyLog",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "QueryService",
            dependencies: [
                "ServerTLS",
                "PrivateSQL", "BudgetLedger", "Accounting", "Mechanisms",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"), "CheckedYAML",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            resources: [.copy("Resources")]
        ),
        .target(
            name: "FederatedLearning",
            dependencies: [
                "PrivateTraining", "LinearAlgebra", "Mechanisms", "Accounting", "BudgetLedger",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"), "CheckedYAML",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                "SecureAggregation", "ServerTLS",
            ]
        ),
        .target(
            name: "ServerTLS",
            dependencies: ["Mechanisms", .product(name: "HummingbirdTLS", package: "hummingbird")]
        ),
        .target(
            name: "SecureAggregation",
            dependencies: [
                "Mechanisms", "Accounting",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),

        .target(
            name: "PostgresClient",
            dependencies: [
                "Mechanisms",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .target(
            name: "PrivacyAudit",
            dependencies: [
                "Mechanisms", "CGSL", "Accounting", "BudgetLedger", "PrivateSQL", "PrivateTraining", "LinearAlgebra",
                "FederatedLearning", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),

        // MARK: Executables
        .executableTarget(
            name: "VeilCLI",
            dependencies: [
                "Mechanisms", "Accounting", "BudgetLedger", "PrivateSQL", "PrivateTraining", "TrustedExecution",
                "LocalInference", "TransparencyLog", "ConfidentialInference", "QueryService", "FederatedLearning",
                "PrivacyAudit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "VeilBench",
            dependencies: [
                "Mechanisms", "Accounting", "BudgetLedger", "PrivateSQL", "LinearAlgebra", "PrivateTraining",
                "TrustedExecution", "LocalInference", "TransparencyLog", "ConfidentialInference", "QueryService",
                "FederatedLearning", "SecureAggregation", "PostgresClient",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // MARK: Tests
        .target(
            name: "_TestSupport",
            dependencies: ["Mechanisms", "CGSL", "PostgresClient", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/_TestSupport"
        ),
        .testTarget(name: "MechanismsTests", dependencies: ["Mechanisms", "_TestSupport"]),
        .testTarget(
            name: "CheckedYAMLTests",
            dependencies: ["CheckedYAML", .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(
            name: "AccountingTests",
            dependencies: ["Accounting", "_TestSupport"],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "VeilCLITests",
            dependencies: ["_TestSupport", "VeilCLI", "BudgetLedger", "SecureAggregation", "PostgresClient"]
        ),
        .testTarget(name: "BudgetLedgerTests", dependencies: ["BudgetLedger", "_TestSupport"]),
        .testTarget(name: "PostgresClientTests", dependencies: ["PostgresClient", "_TestSupport"]),
        .testTarget(
            name: "PrivateSQLTests",
            dependencies: ["PrivateSQL", "BudgetLedger", "PostgresClient", "_TestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(name: "LinearAlgebraTests", dependencies: ["LinearAlgebra"]),
        .testTarget(
            name: "TrustedExecutionTests",
            dependencies: [
                "TrustedExecution", "_TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
            ]
        ),
        .testTarget(
            name: "PrivateTrainingTests",
            dependencies: [
                "PrivateTraining", "LinearAlgebra", "Accounting", "_TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            resources: [.copy("Resources")]
        ),
        .testTarget(
            name: "QueryServiceTests",
            dependencies: ["QueryService", "PrivateSQL", "BudgetLedger", "_TestSupport"]
        ),
        .testTarget(
            name: "LocalInferenceTests",
            dependencies: [
                "LocalInference", "PrivateTraining", "LinearAlgebra", "Mechanisms", "_TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]
        ),
        .testTarget(
            name: "TransparencyLogTests",
            dependencies: ["TransparencyLog", "_TestSupport", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .testTarget(
            name: "ConfidentialInferenceTests",
            dependencies: [
                "ConfidentialInference", "TransparencyLog", "TrustedExecution", "_TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "FederatedLearningTests",
            dependencies: ["FederatedLearning", "SecureAggregation", "PrivateTraining", "LinearAlgebra", "Accounting", "BudgetLedger", "_TestSupport"]
        ),
        .testTarget(name: "SecureAggregationTests", dependencies: ["SecureAggregation", "_TestSupport"]),
        .testTarget(
            name: "PrivacyAuditTests",
            dependencies: ["PrivacyAudit", "Mechanisms", "PrivateSQL", "PrivateTraining", "LinearAlgebra", "FederatedLearning",
                           "_TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// MARK: Fuzzing harness (scripts/fuzz.sh builds it with VEIL_FUZZ=1)
// Not part of the normal package: `swift build` and `swift test` never see these targets. With VEIL_FUZZ=1,
// Veil's own modules that the harness reaches are compiled with SanitizerCoverage (`-sanitize=fuzzer`) and
// the harness links libFuzzer; the dependencies are left as they are, so a fuzz build in the normal scratch
// folder reuses them. See docs/fuzzing.md.
if Context.environment["VEIL_FUZZ"] == "1" {
    let instrumented: Set<String> = [
        "Mechanisms", "Accounting", "BudgetLedger", "PostgresClient", "PrivateSQL", "LinearAlgebra", "PrivateTraining",
        "CheckedYAML",
    ]
    for target in package.targets where instrumented.contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-sanitize=fuzzer"])]
    }
    package.targets += [
        .systemLibrary(name: "CLibFuzzer", path: "Fuzz/CLibFuzzer"),
        .executableTarget(
            name: "VeilFuzz",
            dependencies: ["CLibFuzzer", "Accounting", "PrivateSQL", "PrivateTraining"],
            path: "Fuzz/VeilFuzz",
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer", "-use-ld=lld"])]
        ),
    ]
    package.products.append(.executable(name: "veil-fuzz", targets: ["VeilFuzz"]))
}
