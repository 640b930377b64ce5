// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "sdc",
    products: [
        .executable(name: "sdc", targets: ["sdc"]),
        .library(name: "SDCCore", targets: ["SDCCore"]),
        .library(name: "SDCCatalog", targets: ["SDCCatalog"]),
        .library(name: "SDCStorage", targets: ["SDCStorage"]),
        .library(name: "SDCIngest", targets: ["SDCIngest"]),
        .library(name: "SDCJobs", targets: ["SDCJobs"]),
        .library(name: "SDCAssembly", targets: ["SDCAssembly"]),
        .library(name: "SDCPipeline", targets: ["SDCPipeline"]),
        .library(name: "SDCServer", targets: ["SDCServer"]),
        .library(name: "SDCPortal", targets: ["SDCPortal"]),
        .library(name: "SDCClient", targets: ["SDCClient"]),
        .library(name: "SDCPackets", targets: ["SDCPackets"]),
        .library(name: "SDCHAPI", targets: ["SDCHAPI"]),
        .library(name: "SDCCDF", targets: ["SDCCDF"]),
        .library(name: "SDCAlerts", targets: ["SDCAlerts"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Naming grammar, versions, dates. Depends on nothing.
        .target(name: "SDCCore"),
        // File catalog (science, ancillary, SPICE tables; API keys) behind a protocol; SQLite via GRDB.
        .target(name: "SDCCatalog", dependencies: [
            "SDCCore",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // Object store behind a protocol; local filesystem and S3 implementations, URL signing and AWS SigV4.
        .target(name: "SDCStorage", dependencies: [
            "SDCCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The one path by which files enter: store, checksum, catalog, notify (uploads, watchers, products).
        .target(name: "SDCIngest", dependencies: [
            "SDCCore", "SDCCatalog", "SDCStorage",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The job model and the durable job store behind JobQueue / JobStore protocols (SQLite via GRDB), and lineage.
        .target(name: "SDCJobs", dependencies: [
            "SDCCore",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The PostgreSQL backend (PostgresNIO) of the catalog, API keys, request log and job store, for many replicas.
        .target(name: "SDCPostgres", dependencies: [
            "SDCCore", "SDCCatalog", "SDCJobs", "SDCAlerts",
            "SDCIntegrity",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Operations alerts (rules file, conditions, webhooks, durable state) and product latency.
        .target(name: "SDCAlerts", dependencies: [
            "SDCCore", "SDCCatalog", "SDCStorage", "SDCIngest", "SDCJobs", "SDCCDF", "SDCPackets",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Processing: dependency graph, algorithm registry, planner, workers, built-in L0 -> L1A.
        .target(name: "SDCPipeline", dependencies: [
            "SDCCore", "SDCCatalog", "SDCStorage", "SDCIngest", "SDCJobs", "SDCPackets", "SDCCDF",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Yams", package: "Yams"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], resources: [.copy("Resources/pipeline")]),
        // IMAP-compatible HTTP API (Hummingbird 2).
        .target(name: "SDCServer", dependencies: [
            "SDCCore", "SDCCatalog", "SDCStorage", "SDCIngest", "SDCJobs",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        // Web portal, quicklook plots, operations dashboard and Prometheus metrics, served beside the API.
        .target(name: "SDCPortal", dependencies: [
            "SDCCore", "SDCCatalog", "SDCStorage", "SDCIngest", "SDCJobs", "SDCCDF", "SDCServer", "SDCAlerts",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            "SDCIntegrity",
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // Client library for the API (AsyncHTTPClient).
        .target(name: "SDCClient", dependencies: [
            "SDCCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Operations around a data center: the directory watcher (`sdc watch`) and the mirror (`sdc mirror`).
        .target(name: "SDCSync", dependencies: [
            "SDCCore", "SDCClient",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Integrity of the stored objects (`sdc verify`, the background scrub) and archive delivery to the SPDF (BagIt
        // packages of ISTP-validated products, the delivery ledger).
        .target(name: "SDCIntegrity", dependencies: [
            "SDCCore", "SDCCatalog", "SDCStorage", "SDCIngest", "SDCJobs", "SDCCDF", "SDCAlerts",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // XTCE-driven CCSDS packet decoding.
        .target(name: "SDCPackets", dependencies: ["SDCCore"]),
        // libdeflate's C API (Debian: libdeflate-dev), for CDF GZIP compression.
        .systemLibrary(name: "CDeflate", path: "Sources/CDeflate"),
        // Native CDF reader/writer, TT2000, ISTP metadata.
        .target(name: "SDCCDF", dependencies: [
            "SDCCore", "CDeflate",
            .product(name: "Yams", package: "Yams"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // I-ALiRT real-time data: packet ingest (uploaded L0 files, live POSTs), the real-time record store (SQLite,
        // PostgreSQL) and the API ialirt-data-access 0.10.0 calls.
        .target(name: "SDCIALiRT", dependencies: [
            "SDCCore", "SDCCatalog", "SDCStorage", "SDCIngest", "SDCJobs", "SDCServer", "SDCPackets", "SDCCDF", "SDCPostgres",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], resources: [.copy("Resources/ialirt.xml")]),
        .testTarget(name: "SDCIALiRTTests", dependencies: [
            "SDCIALiRT", "SDCServer", "SDCIngest", "SDCCatalog", "SDCStorage", "SDCAssembly", "SDCPostgres", "SDCCore", "SDCCDF",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // HAPI 3.3 time-series service over the CDF products, served beside the API at /hapi.
        .target(name: "SDCHAPI", dependencies: [
            "SDCCore", "SDCCatalog", "SDCStorage", "SDCCDF", "SDCServer",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // The composition root: the one place that names the concrete catalog, job store and object store.
        .target(name: "SDCAssembly", dependencies: [
            "SDCCore", "SDCCatalog", "SDCStorage", "SDCIngest", "SDCJobs", "SDCPostgres", "SDCIALiRT", "SDCAlerts",
            "SDCIntegrity",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The `sdc` command: wires the libraries together.
        .executableTarget(name: "sdc", dependencies: [
            "SDCCore", "SDCCatalog", "SDCStorage", "SDCIngest", "SDCJobs", "SDCAssembly", "SDCPipeline", "SDCServer", "SDCPortal", "SDCClient", "SDCPackets", "SDCCDF", "SDCHAPI", "SDCIALiRT",
            "SDCAlerts",
            "SDCSync",
            "SDCIntegrity",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Timing harness for scripts/bench (not part of the data center).
        .executableTarget(name: "sdc-bench", dependencies: [
            "SDCCore", "SDCCatalog", "SDCPackets", "SDCCDF", "SDCJobs", "SDCPostgres",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "SDCCoreTests", dependencies: ["SDCCore"]),
        .testTarget(name: "SDCCatalogTests", dependencies: [
            "SDCCatalog", "SDCPostgres", .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        .testTarget(name: "SDCStorageTests", dependencies: [
            "SDCStorage", "SDCCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ], exclude: ["Fixtures/make_sigv4_vectors.py"], resources: [.copy("Fixtures/sigv4_botocore.json")]),
        .testTarget(name: "SDCServerTests", dependencies: [
            "SDCServer", "SDCIngest", "SDCAssembly", "SDCJobs",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "SDCClientTests", dependencies: [
            "SDCClient", "SDCCore",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .testTarget(name: "SDCIngestTests", dependencies: [
            "SDCIngest", "SDCAssembly", "SDCCatalog", "SDCCore", .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "SDCJobsTests", dependencies: [
            "SDCJobs", "SDCCore", "SDCCatalog", "SDCPostgres", .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ]),
        .testTarget(name: "SDCPipelineTests", dependencies: [
            "SDCPipeline", "SDCJobs", "SDCCatalog", "SDCIngest", "SDCStorage", "SDCAssembly", "SDCServer",
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "SDCPortalTests", dependencies: [
            "SDCPortal", "SDCServer", "SDCIngest", "SDCCatalog", "SDCCDF", "SDCCore", "SDCJobs", "SDCAssembly",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
        .testTarget(name: "SDCPacketsTests", dependencies: ["SDCPackets"]),
        .testTarget(name: "SDCCDFTests", dependencies: ["SDCCDF"]),
        .testTarget(name: "SDCHAPITests", dependencies: [
            "SDCHAPI", "SDCServer", "SDCIngest", "SDCAssembly", "SDCCatalog", "SDCCDF", "SDCCore", "SDCStorage",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "SDCIntegrityTests", dependencies: [
            "SDCIntegrity", "SDCAssembly", "SDCPostgres", "SDCCatalog", "SDCStorage", "SDCIngest", "SDCCDF", "SDCCore",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .testTarget(name: "SDCSyncTests", dependencies: [
            "SDCSync", "SDCClient", "SDCCore", .product(name: "GRDB", package: "GRDB.swift"),
        ]),
        .testTarget(name: "SDCAlertsTests", dependencies: [
            "SDCAlerts", "SDCAssembly", "SDCPostgres", "SDCJobs", "SDCCatalog", "SDCIngest", "SDCStorage", "SDCCDF", "SDCPackets", "SDCCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
    ]
)
