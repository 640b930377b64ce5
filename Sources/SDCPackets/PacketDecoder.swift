import Foundation
import SDCCore

/// Options of a decode run.
public struct DecodeOptions: Sendable {
    /// Threads used for column extraction: the calling thread and up to `parallelism - 1` threads of
    /// ``ProcessingPool/shared`` (all cores by default, for a command run alone); 1 decodes on the calling thread only.
    public var parallelism: Int
    /// Names of the containers to decode; nil decodes all. Other packets are still framed and counted.
    public var containers: Set<String>?

    public init(parallelism: Int = ProcessingPool.coreCount, containers: Set<String>? = nil) {
        self.parallelism = max(1, parallelism)
        self.containers = containers
    }
}

/// Decodes CCSDS packet streams with a compiled `PacketDefinition`.
///
/// One sequential pass frames the packets by their primary headers, chooses each packet's container and validates
/// its size; the fields are then extracted column by column, in chunks that run concurrently. Damaged packets are
/// counted in the report and skipped; decoding always goes on.
public struct PacketDecoder: Sendable {
    public let definition: PacketDefinition
    let dispatcher: PacketDispatcher

    public init(definition: PacketDefinition) {
        self.definition = definition
        self.dispatcher = PacketDispatcher(definition: definition)
    }

    /// Decodes a packet file. The file is memory-mapped, so only the decoded columns occupy heap memory.
    public func decode(fileAt url: URL, options: DecodeOptions = DecodeOptions()) throws -> DecodedPackets {
        let file = try MappedFile(url: url)
        return file.withUnsafeBytes { decode($0, options: options) }
    }

    /// Decodes packets held in memory.
    public func decode(_ bytes: [UInt8], options: DecodeOptions = DecodeOptions()) -> DecodedPackets {
        bytes.withUnsafeBytes { decode($0, options: options) }
    }

    /// Decodes packets in a raw buffer (which must stay valid during the call).
    public func decode(_ bytes: UnsafeRawBufferPointer, options: DecodeOptions = DecodeOptions()) -> DecodedPackets {
        var indexer = PacketIndexer(dispatcher: dispatcher, selectedLayouts: selectedLayouts(options))
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return DecodedPackets(containers: [], report: indexer.report(byteCount: 0))
        }
        indexer.scan(base, count: bytes.count, until: bytes.count)
        let containers = extract(indexer.takeGroups(), base: base, count: bytes.count, parallelism: options.parallelism)
        return DecodedPackets(containers: containers, report: indexer.report(byteCount: bytes.count))
    }

    /// Decodes a file of any size in batches of about `batchBytes` bytes of packets, so that memory stays bounded
    /// by the batch: `body` receives each batch's containers (with file byte offsets) and the report so far, and
    /// the file's pages are released once decoded. Statistics and sequence gaps span batches.
    ///
    /// - Returns: the report of the whole file.
    @discardableResult
    public func decodeInBatches(fileAt url: URL, batchBytes: Int = 64 << 20, options: DecodeOptions = DecodeOptions(),
                                _ body: (DecodedPackets) throws -> Void) throws -> DecodeReport {
        let file = try MappedFile(url: url)
        return try file.withUnsafeBytes { bytes in
            var indexer = PacketIndexer(dispatcher: dispatcher, selectedLayouts: selectedLayouts(options))
            guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
                return indexer.report(byteCount: 0)
            }
            while !indexer.isFinished {
                indexer.scan(base, count: bytes.count, until: indexer.position + max(1, batchBytes))
                let containers = extract(indexer.takeGroups(), base: base, count: bytes.count, parallelism: options.parallelism)
                try body(DecodedPackets(containers: containers, report: indexer.report(byteCount: indexer.position)))
                file.discardPages(before: indexer.position)
            }
            return indexer.report(byteCount: bytes.count)
        }
    }

    private func selectedLayouts(_ options: DecodeOptions) -> Set<Int>? {
        options.containers.map { names in
            Set(definition.layouts.indices.filter { names.contains(definition.layouts[$0].name) })
        }
    }

    /// Extracts the raw columns of framed groups: one task per column, on up to `parallelism` threads, each task
    /// writing only its own slot. Groups come out in definition order, then by APID.
    private func extract(_ framed: [PacketGroup], base: UnsafePointer<UInt8>, count: Int, parallelism: Int) -> [DecodedContainer] {
        let groups = framed.sorted { ($0.layoutIndex, $0.apid) < ($1.layoutIndex, $1.apid) }
        let layouts = groups.map { definition.layouts[$0.layoutIndex] }
        let tasks = groups.indices.flatMap { group in layouts[group].fields.indices.map { (group, $0) } }
        var columns = [Column?](repeating: nil, count: tasks.count)
        columns.withUnsafeMutableBufferPointer { slots in
            ProcessingPool.shared.forEach(tasks.count, width: parallelism) { _, task in
                let (group, field) = tasks[task]
                slots[task] = groups[group].starts.withUnsafeBufferPointer { starts in
                    groups[group].sizes.withUnsafeBufferPointer { sizes in
                        ColumnExtractor(base: base, count: count, layout: layouts[group], starts: starts, sizes: sizes)
                            .column(field)
                    }
                }
            }
        }
        var firstColumn = 0
        return groups.indices.map { group in
            let fieldCount = layouts[group].fields.count
            defer { firstColumn += fieldCount }
            return DecodedContainer(layout: layouts[group], apid: groups[group].apid, byteOffsets: groups[group].starts,
                                    rawColumns: columns[firstColumn..<(firstColumn + fieldCount)].map { $0! })
        }
    }

    /// The report `decode` would give, without extracting any field: frames, matches and validates every packet.
    public func inspect(_ bytes: UnsafeRawBufferPointer) -> DecodeReport {
        var indexer = PacketIndexer(dispatcher: dispatcher, selectedLayouts: nil)
        if let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) {
            indexer.scan(base, count: bytes.count, until: bytes.count)
        }
        return indexer.report(byteCount: bytes.count)
    }

    /// The report `decode(fileAt:)` would give, without extracting any field.
    public func inspect(fileAt url: URL) throws -> DecodeReport {
        try MappedFile(url: url).withUnsafeBytes { inspect($0) }
    }

    /// Frames a packet stream and gathers statistics without a definition (`sdc packets inspect` without XTCE).
    public static func survey(_ bytes: UnsafeRawBufferPointer) -> DecodeReport {
        var indexer = PacketIndexer(dispatcher: nil, selectedLayouts: nil)
        if let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) {
            indexer.scan(base, count: bytes.count, until: bytes.count)
        }
        return indexer.report(byteCount: bytes.count)
    }

    /// Frames a packet file and gathers statistics without a definition.
    public static func survey(fileAt url: URL) throws -> DecodeReport {
        try MappedFile(url: url).withUnsafeBytes { survey($0) }
    }
}

/// The result of decoding a packet stream.
public struct DecodedPackets: Sendable {
    /// One entry per (container, APID) pair, in definition order then by APID.
    public let containers: [DecodedContainer]
    /// Framing statistics, damage and sequence gaps.
    public let report: DecodeReport

    /// The decoded groups of the container with the given name.
    public func containers(named name: String) -> [DecodedContainer] {
        containers.filter { $0.name == name }
    }
}
