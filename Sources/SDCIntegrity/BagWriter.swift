import Crypto
import Foundation
import SDCCore

/// Writes a BagIt bag (RFC 8493, version 1.0) with SHA-256 manifests: `bagit.txt`, the payload under `data/`,
/// `manifest-sha256.txt`, `bag-info.txt` (with `Payload-Oxum`, `Bagging-Date` and `Bag-Size`) and
/// `tagmanifest-sha256.txt` over the tag files.
///
/// Payload files are added by the caller under ``dataFolder`` and declared with ``add(_:size:sha256:)``; ``finish(info:)``
/// writes the tag files. Blocking file work: call it from a thread that may block (the processing pool).
public struct BagWriter: Sendable {
    /// The bag's folder.
    public let folder: URL
    private var payload: [(path: String, size: Int64, sha256: String)] = []

    /// Starts a bag in `folder`, which must not exist yet or be empty: creates it and its `data/` folder.
    public init(folder: URL) throws(IntegrityError) {
        self.folder = folder
        let manager = FileManager.default
        if let existing = try? manager.contentsOfDirectory(atPath: folder.path), !existing.isEmpty {
            throw IntegrityError("\(folder.path) already exists and is not empty: a bag is written into a new folder")
        }
        do {
            try manager.createDirectory(at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
        } catch {
            throw IntegrityError("cannot create the bag folder \(folder.path): \(error.localizedDescription)")
        }
    }

    /// The payload folder.
    public var dataFolder: URL { folder.appendingPathComponent("data") }

    /// Declares a payload file already written at `data/<path>` with its size and SHA-256.
    public mutating func add(_ path: String, size: Int64, sha256: String) {
        payload.append(("data/" + path, size, sha256))
    }

    /// Writes the tag files; `info` are the `bag-info.txt` fields (in order) besides the computed ones.
    public func finish(info: [(String, String)], now: UTCTime = .now) throws(IntegrityError) {
        let bytes = payload.reduce(Int64(0)) { $0 + $1.size }
        let manifest = payload.sorted { $0.path < $1.path }.map { "\($0.sha256)  \(Self.encodedPath($0.path))\n" }.joined()
        let fields = info + [("Bagging-Date", now.date.isoDate), ("Payload-Oxum", "\(bytes).\(payload.count)"), ("Bag-Size", Self.size(bytes))]
        let tagFiles: [(String, String)] = [
            ("bagit.txt", "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"),
            ("bag-info.txt", fields.map { "\($0.0): \(Self.oneLine($0.1))\n" }.joined()),
            ("manifest-sha256.txt", manifest),
        ]
        var tagManifest = ""
        for (name, text) in tagFiles {
            try write(text, to: name)
            tagManifest += "\(SHA256.hash(data: Data(text.utf8)).hexString)  \(name)\n"
        }
        try write(tagManifest, to: "tagmanifest-sha256.txt")
    }

    private func write(_ text: String, to name: String) throws(IntegrityError) {
        do {
            try Data(text.utf8).write(to: folder.appendingPathComponent(name), options: .atomic)
        } catch {
            throw IntegrityError("cannot write \(name) in \(folder.path): \(error.localizedDescription)")
        }
    }

    /// A manifest path as RFC 8493 §2.1.3 requires: `%`, CR and LF percent-encoded.
    static func encodedPath(_ path: String) -> String {
        path.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\n", with: "%0A").replacingOccurrences(of: "\r", with: "%0D")
    }

    /// A field value on one line.
    private static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
    }

    /// Bytes in the units people read (`Bag-Size` is informational).
    static func size(_ bytes: Int64) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : String(format: "%.1f", value) + " " + units[unit]
    }
}
