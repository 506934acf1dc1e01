// swift-tools-version:6.0
import PackageDescription

/// The engine's modules are optimised in debug builds too, so the tests (which train, prune and
/// sweep for real) run at a useful speed; everything else keeps the debug build's checks.
let engineSettings: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "prunebench",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "prunebench", targets: ["prunebench"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Models", targets: ["Models"]),
        .library(name: "Data", targets: ["Data"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    ],
    targets: [
        // System libraries: a module map and a shim header each, nothing else.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // zmq.h is in /usr/include; libzmq's pkg-config Cflags carry -isystem, which SwiftPM refuses with a warning.
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        // Linux calls Swift cannot make directly (variadic prctl) and the OpenMP runtime's C ABI.
        .systemLibrary(name: "CSystem"),

        // Specs, sweeps, the grid, canonical JSON, digests and results: no tensor engine.
        .target(name: "Experiments", dependencies: [.product(name: "Crypto", package: "swift-crypto"),
                                                    .product(name: "Yams", package: "Yams")]),
        .target(name: "Tensor", dependencies: ["CDNNL", "COpenBLAS", "CSystem"], swiftSettings: engineSettings),
        .target(name: "NN", dependencies: ["Tensor"], swiftSettings: engineSettings),
        .target(name: "Models", dependencies: ["NN", "Experiments", "TorchCheckpoint"], swiftSettings: engineSettings),
        // JPEG/PNG decoding as Pillow does it, and torchvision's resampling: no tensor engine.
        .target(name: "Imaging", dependencies: ["CJPEG", "CPNG", "CZlib"], swiftSettings: engineSettings),
        .target(name: "Data", dependencies: ["Tensor", "Imaging", "CZlib", "TorchCheckpoint"], swiftSettings: engineSettings),
        // torch.save files (zip and legacy) through a pickle reader that executes nothing.
        .target(name: "TorchCheckpoint", dependencies: ["CZlib"]),
        // COCO box evaluation as pycocotools computes it (the detector will live here too).
        .target(name: "Detection", dependencies: ["Data"]),
        .target(name: "Pruning", dependencies: ["Experiments", "Tensor", "NN", "Models"], swiftSettings: engineSettings),
        .target(name: "Bench", dependencies: ["Experiments", "Tensor", "NN", "Models", "Data", "Pruning"], swiftSettings: engineSettings),
        .target(name: "Cluster", dependencies: ["Experiments", "CZeroMQ",
                                               .product(name: "GRDB", package: "GRDB.swift"),
                                               .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "prunebench",
            dependencies: [
                "Experiments", "Tensor", "NN", "Models", "Data", "Imaging", "TorchCheckpoint", "Detection", "Bench", "Pruning", "Cluster", "CSystem",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Locates Tests/Fixtures for the test targets.
        .target(name: "TestSupport", dependencies: ["NN", "Tensor"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "NNTests", dependencies: ["NN", "Models", "TestSupport"]),
        .testTarget(name: "DataTests", dependencies: ["Data", "Imaging", "CZlib", "TestSupport"]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "TestSupport"]),
        .testTarget(name: "BenchTests", dependencies: ["Bench", "Experiments", "Models", "NN", "Pruning", "Tensor"]),
        .testTarget(name: "TorchCheckpointTests", dependencies: ["TorchCheckpoint"]),
        .testTarget(name: "DetectionTests", dependencies: ["Detection", "Data", "TestSupport"]),
        .testTarget(name: "ClusterTests", dependencies: ["Cluster", "Experiments", "Bench", "TestSupport"]),
        .testTarget(name: "PruningTests", dependencies: ["Pruning", "Experiments", "Models", "NN", "Tensor", "Data", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
