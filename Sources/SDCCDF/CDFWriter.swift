import Crypto
import SDCCore

/// File-level options of a CDF being written.
public struct CDFWriteOptions: Sendable {
    /// Append an MD5 trailer (CDR flags bits 2 and 3).
    public var md5: Bool
    /// The leap-second table date recorded in the GDR.
    public var leapSecondLastUpdated: Int
    /// Threads that compress blocks: the calling thread and up to `parallelism - 1` threads of
    /// ``ProcessingPool/shared`` (all cores by default, for a command run alone; a server passes the pool's size).
    public var parallelism: Int

    public init(md5: Bool = false, leapSecondLastUpdated: Int = LeapSecondTable.standard.lastUpdated,
                parallelism: Int = ProcessingPool.coreCount) {
        self.md5 = md5
        self.leapSecondLastUpdated = leapSecondLastUpdated
        self.parallelism = max(1, parallelism)
    }
}

/// The declaration of a zVariable to write.
public struct CDFVariableSpec: Sendable {
    public var name: String
    public var dataType: CDFDataType
    /// Sizes of the dimensions of one record (all vary); `[]` for scalars.
    public var dimensions: [Int]
    /// False for constants stored once (labels, energy tables).
    public var recordVarying: Bool
    /// Bytes per string for CHAR variables; nil to use the longest string written in one call.
    public var stringLength: Int?
    /// `.none` or `.gzip(level:)`.
    public var compression: CDFCompression
    /// Records per compressed block; nil for about 64 KiB of uncompressed data per block (as cdflib).
    public var blockingFactor: Int?
    /// Value for records never written; nil for the CDF library's default pad of the type.
    public var padValue: CDFValues?
    /// Variable attributes, written in this order.
    public var attributes: [CDFNamedEntry]

    public init(name: String, dataType: CDFDataType, dimensions: [Int] = [], recordVarying: Bool = true,
                stringLength: Int? = nil, compression: CDFCompression = .none, blockingFactor: Int? = nil,
                padValue: CDFValues? = nil, attributes: [CDFNamedEntry] = []) {
        self.name = name
        self.dataType = dataType
        self.dimensions = dimensions
        self.recordVarying = recordVarying
        self.stringLength = stringLength
        self.compression = compression
        self.blockingFactor = blockingFactor
        self.padValue = padValue
        self.attributes = attributes
    }

    /// Values per record.
    public var valuesPerRecord: Int { dimensions.reduce(1, *) }
}

/// Writes a CDF v3 file (IBMPC encoding, row-major, zVariables) in one forward pass with bounded memory.
///
/// Variable data streams to disk as it is appended: uncompressed appends become VVRs, compressed variables are
/// cut into blocks of `blockingFactor` records that are gzip-compressed on all cores and stored as CVVRs
/// (or as VVRs when compression does not shrink them). Descriptors (attributes, VDRs, CPRs) are small and
/// are written after the data when the file is closed; the CDR and GDR at the start are patched last.
///
/// Use ``write(to:options:_:)`` to write through a temporary file that is renamed into place on success.
public final class CDFWriter {
    private let file: OutputFile
    private let options: CDFWriteOptions
    private var attributes: [AttributeState] = []
    private var variables: [VariableState] = []
    private var open: VariableState?
    private var closed = false
    /// One compressor per parallel worker, reused for every block of the file (setting one up costs more than a block).
    private var compressors: [GzipCompressor] = []

    /// Bytes reserved at the start for the magic number, the CDR and the GDR.
    private static let headerBytes = 8 + 312 + 84
    /// Entries per VXR (what the C library and cdflib use).
    private static let vxrCapacity = 7
    /// Blocks compressed per parallel batch and per core; bounds the memory of a compressed append (a batch of
    /// 64 KiB blocks holds at most 2 MiB of compressed output per core).
    private static let blocksPerCore = 32

    /// Creates (truncates) `path` and reserves the header.
    public init(path: String, options: CDFWriteOptions = CDFWriteOptions()) throws {
        file = try OutputFile(path: path)
        self.options = options
        try file.append([UInt8](repeating: 0, count: Self.headerBytes))
    }

    /// Writes a CDF to a temporary file next to `path`, then renames it into place; nothing is left behind on error.
    public static func write(to path: String, options: CDFWriteOptions = CDFWriteOptions(),
                             _ body: (CDFWriter) throws -> Void) throws {
        let temporary = path + ".partial-\(UInt32.random(in: 0...UInt32.max))"
        do {
            let writer = try CDFWriter(path: temporary, options: options)
            try body(writer)
            try writer.close()
            try FileSystem.move(temporary, to: path)
        } catch {
            FileSystem.remove(temporary)
            throw error
        }
    }

    // MARK: - Attributes

    /// Adds a global attribute with its entries (numbered 0, 1, ...).
    public func addGlobalAttribute(_ name: String, entries: [CDFAttributeEntry]) throws {
        try requireOpenFile()
        try Self.validateName(name)
        guard !attributes.contains(where: { $0.name == name }) else {
            throw CDFError.invalidDefinition("attribute '\(name)' is defined twice")
        }
        attributes.append(AttributeState(name: name, isGlobal: true, entries: entries.enumerated().map { ($0.offset, $0.element) }))
    }

    /// Adds a global attribute with one string entry.
    public func addGlobalAttribute(_ name: String, _ value: String) throws {
        try addGlobalAttribute(name, entries: [.string(value)])
    }

    private func addVariableAttribute(_ name: String, variable: Int, entry: CDFAttributeEntry) throws {
        try Self.validateName(name)
        if let index = attributes.firstIndex(where: { $0.name == name }) {
            guard !attributes[index].isGlobal else {
                throw CDFError.invalidDefinition("'\(name)' is a global attribute and cannot be used on a variable")
            }
            guard !attributes[index].entries.contains(where: { $0.number == variable }) else {
                throw CDFError.invalidDefinition("variable attribute '\(name)' is given twice")
            }
            attributes[index].entries.append((variable, entry))
        } else {
            attributes.append(AttributeState(name: name, isGlobal: false, entries: [(variable, entry)]))
        }
    }

    // MARK: - Variables

    /// Writes a whole variable in one call: `values` holds every record, flattened row-major.
    public func writeVariable(_ spec: CDFVariableSpec, values: CDFValues) throws {
        var resolved = spec
        if spec.dataType.isString, spec.stringLength == nil, case .strings(let strings) = values {
            resolved.stringLength = max(1, strings.map(\.utf8.count).max() ?? 1)
        }
        try beginVariable(resolved)
        try appendRecords(values)
        try endVariable()
    }

    /// Starts a variable whose records are then given by ``appendRecords(_:)`` and finished by ``endVariable()``.
    public func beginVariable(_ spec: CDFVariableSpec) throws {
        try requireOpenFile()
        guard open == nil else { throw CDFError.invalidDefinition("variable '\(open!.spec.name)' is still open") }
        try Self.validateName(spec.name)
        guard !variables.contains(where: { $0.spec.name == spec.name }) else {
            throw CDFError.invalidDefinition("variable '\(spec.name)' is defined twice")
        }
        guard spec.dimensions.allSatisfy({ $0 >= 1 }) else {
            throw CDFError.invalidDefinition("variable '\(spec.name)' has a dimension smaller than 1: \(spec.dimensions)")
        }
        let numElems = spec.dataType.isString ? (spec.stringLength ?? 0) : 1
        guard numElems >= 1 else {
            throw CDFError.invalidDefinition("string variable '\(spec.name)' needs a string length of at least 1")
        }
        switch spec.compression {
        case .none: break
        case .gzip(let level) where (1...9).contains(level): break
        default: throw CDFError.invalidDefinition("variable '\(spec.name)': the writer supports no compression or gzip levels 1...9, not \(spec.compression)")
        }
        if let pad = spec.padValue, pad.kind != spec.dataType.storage || pad.count != 1 {
            throw CDFError.invalidDefinition("pad value of '\(spec.name)' must be one \(spec.dataType.name) value")
        }
        var recordBytes = numElems * spec.dataType.elementSize
        for size in spec.dimensions {
            let (product, overflow) = recordBytes.multipliedReportingOverflow(by: size)
            guard !overflow, product <= Int(Int32.max) else {
                throw CDFError.invalidDefinition("records of '\(spec.name)' would exceed 2 GiB: dimensions \(spec.dimensions)")
            }
            recordBytes = product
        }
        let blockingFactor = max(spec.blockingFactor ?? 1, (65536 + recordBytes - 1) / recordBytes)
        guard blockingFactor >= 1, blockingFactor <= (1 << 30) / recordBytes || blockingFactor == 1 else {
            throw CDFError.invalidDefinition("blocking factor \(blockingFactor) of '\(spec.name)' makes blocks larger than 1 GiB")
        }
        let number = variables.count
        for attribute in spec.attributes {
            try addVariableAttribute(attribute.name, variable: number, entry: attribute.entry)
        }
        open = VariableState(spec: spec, number: number, numElems: numElems, recordBytes: recordBytes,
                             blockingFactor: spec.compression == .none ? 1 : blockingFactor)
    }

    /// Appends records to the open variable; `values.count` must be a whole number of records.
    public func appendRecords(_ values: CDFValues) throws {
        guard var state = open else { throw CDFError.invalidDefinition("no variable is open") }
        let spec = state.spec
        guard values.kind == spec.dataType.storage else {
            throw CDFError.invalidValues(name: spec.name, reason: "\(spec.dataType.name) needs \(spec.dataType.storage) values, got \(values.kind)")
        }
        guard values.count % spec.valuesPerRecord == 0 else {
            throw CDFError.invalidValues(name: spec.name, reason: "\(values.count) values are not a whole number of records of \(spec.valuesPerRecord)")
        }
        let records = values.count / spec.valuesPerRecord
        guard spec.recordVarying || state.recordsWritten + records <= 1 else {
            throw CDFError.invalidValues(name: spec.name, reason: "a non-record-varying variable holds exactly one record")
        }
        guard records > 0 else { return }
        open = nil
        defer { open = state }
        try ValueCodec.withLittleEndianBytes(of: values, numElems: state.numElems, name: spec.name) { bytes in
            if case .gzip(let level) = spec.compression {
                try appendCompressed(bytes, state: &state, level: level)
            } else {
                try writePlainBlock(bytes, records: records, state: &state)
            }
        }
    }

    /// Finishes the open variable: flushes the last partial block and writes its index (VXRs).
    public func endVariable() throws {
        guard var state = open else { throw CDFError.invalidDefinition("no variable is open") }
        open = nil
        if !state.pending.isEmpty, case .gzip(let level) = state.spec.compression {
            let pending = state.pending
            state.pending = []
            try pending.withUnsafeBytes { try compressBlocks($0, blockCount: 1, blockBytes: $0.count, state: &state, level: level) }
        }
        (state.indexHead, state.indexTail) = try writeIndex(state.blocks)
        variables.append(state)
    }

    // MARK: - Data blocks

    private func writePlainBlock(_ bytes: UnsafeRawBufferPointer, records: Int, state: inout VariableState) throws {
        var header = RecordBuilder(capacity: 12)
        header.int64(12 + bytes.count)
        header.int32(RecordType.vvr.rawValue)
        let offset = try file.append(header.bytes)
        try file.append(bytes)
        state.blocks.append(IndexEntry(first: state.recordsWritten, last: state.recordsWritten + records - 1, offset: offset))
        state.recordsWritten += records
    }

    private func appendCompressed(_ bytes: UnsafeRawBufferPointer, state: inout VariableState, level: Int) throws {
        let blockBytes = state.blockingFactor * state.recordBytes
        var input = bytes
        if !state.pending.isEmpty {
            let take = min(blockBytes - state.pending.count, input.count)
            state.pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[0..<take]))
            input = UnsafeRawBufferPointer(rebasing: input[take...])
            if state.pending.count == blockBytes {
                let pending = state.pending
                state.pending = []
                try pending.withUnsafeBytes { try compressBlocks($0, blockCount: 1, blockBytes: blockBytes, state: &state, level: level) }
            }
        }
        let batch = options.parallelism * Self.blocksPerCore
        var fullBlocks = input.count / blockBytes
        while fullBlocks > 0 {
            let count = min(batch, fullBlocks)
            try compressBlocks(UnsafeRawBufferPointer(rebasing: input[0..<(count * blockBytes)]), blockCount: count,
                               blockBytes: blockBytes, state: &state, level: level)
            input = UnsafeRawBufferPointer(rebasing: input[(count * blockBytes)...])
            fullBlocks -= count
        }
        state.pending.append(contentsOf: input)
    }

    /// Compresses `blockCount` consecutive blocks in parallel (the last may be short) and appends them in order.
    private func compressBlocks(_ bytes: UnsafeRawBufferPointer, blockCount: Int, blockBytes: Int,
                                state: inout VariableState, level: Int) throws {
        let results = UnsafeMutableBufferPointer<[UInt8]?>.allocate(capacity: blockCount)
        results.initialize(repeating: nil)
        defer {
            results.deinitialize()
            results.deallocate()
        }
        let workers = min(blockCount, options.parallelism)
        if compressors.count < workers || compressors.contains(where: { $0.level != level }) {
            compressors = (0..<options.parallelism).map { _ in GzipCompressor(level: level) }
        }
        let compressors = compressors
        ProcessingPool.shared.forEach(blockCount, width: workers) { worker, block in
            let start = block * blockBytes
            let end = min(bytes.count, start + blockBytes)
            results[block] = compressors[worker].member(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
        }
        for block in 0..<blockCount {
            let start = block * blockBytes
            let end = min(bytes.count, start + blockBytes)
            let records = (end - start) / state.recordBytes
            if let compressed = results[block] {
                var header = RecordBuilder(capacity: 24)
                header.int64(24 + compressed.count)
                header.int32(RecordType.cvvr.rawValue)
                header.int32(0)
                header.int64(compressed.count)
                let offset = try file.append(header.bytes)
                try file.append(compressed)
                state.blocks.append(IndexEntry(first: state.recordsWritten, last: state.recordsWritten + records - 1, offset: offset))
                state.recordsWritten += records
            } else {
                try writePlainBlock(UnsafeRawBufferPointer(rebasing: bytes[start..<end]), records: records, state: &state)
            }
        }
    }

    /// Writes the VXRs indexing `entries`: leaves of up to 7 entries, then parent levels of up to 7 until
    /// at most 7 VXRs remain, which form the chained top level. Returns the head and tail of the top level.
    private func writeIndex(_ entries: [IndexEntry]) throws -> (head: Int, tail: Int) {
        guard !entries.isEmpty else { return (0, 0) }
        var level = entries
        var isTop = false
        while !isTop {
            let groups = stride(from: 0, to: level.count, by: Self.vxrCapacity).map { Array(level[$0..<min($0 + Self.vxrCapacity, level.count)]) }
            isTop = groups.count <= Self.vxrCapacity
            let size = 28 + 16 * Self.vxrCapacity
            let firstOffset = file.length
            var next: [IndexEntry] = []
            var builder = RecordBuilder(capacity: groups.count * size)
            for (index, group) in groups.enumerated() {
                let offset = firstOffset + index * size
                let chained = isTop && index + 1 < groups.count ? offset + size : 0
                builder.int64(size)
                builder.int32(RecordType.vxr.rawValue)
                builder.int64(chained)
                builder.int32(Self.vxrCapacity)
                builder.int32(group.count)
                for slot in 0..<Self.vxrCapacity { builder.int32(slot < group.count ? group[slot].first : -1) }
                for slot in 0..<Self.vxrCapacity { builder.int32(slot < group.count ? group[slot].last : -1) }
                for slot in 0..<Self.vxrCapacity { builder.int64(slot < group.count ? group[slot].offset : -1) }
                next.append(IndexEntry(first: group[0].first, last: group[group.count - 1].last, offset: offset))
            }
            try file.append(builder.bytes)
            level = next
        }
        return (level[0].offset, level[level.count - 1].offset)
    }

    // MARK: - Closing

    /// Writes the descriptors, patches the header and appends the MD5 trailer if requested.
    public func close() throws {
        try requireOpenFile()
        if open != nil { try endVariable() }
        closed = true
        let layout = DescriptorLayout(base: file.length, attributes: attributes, variables: variables)
        try file.append(layout.serialize(attributes: attributes, variables: variables))
        var header = RecordBuilder(capacity: Self.headerBytes)
        header.append(contentsOf: [0xCD, 0xF3, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xFF])
        header.int64(312)
        header.int32(RecordType.cdr.rawValue)
        header.int64(320)
        header.int32(3)
        header.int32(9)
        header.int32(6)
        header.int32(options.md5 ? 0b1111 : 0b0011)
        header.int32(0)
        header.int32(0)
        header.int32(0)
        header.int32(-1)
        header.int32(-1)
        header.name(Self.copyright)
        header.int64(84)
        header.int32(RecordType.gdr.rawValue)
        header.int64(0)
        header.int64(variables.isEmpty ? 0 : layout.vdrOffsets[0])
        header.int64(attributes.isEmpty ? 0 : layout.adrOffsets[0])
        header.int64(layout.end)
        header.int32(0)
        header.int32(attributes.count)
        header.int32(-1)
        header.int32(0)
        header.int32(variables.count)
        header.int64(0)
        header.int32(0)
        header.int32(options.leapSecondLastUpdated)
        header.int32(-1)
        try file.write(header.bytes, at: 0)
        if options.md5 {
            var hasher = Insecure.MD5()
            var chunk = [UInt8](repeating: 0, count: 1 << 22)
            var position = 0
            while position < layout.end {
                let n = min(chunk.count, layout.end - position)
                try chunk.withUnsafeMutableBytes { raw in
                    let part = UnsafeMutableRawBufferPointer(rebasing: raw[0..<n])
                    try file.read(at: position, into: part)
                    hasher.update(bufferPointer: UnsafeRawBufferPointer(part))
                }
                position += n
            }
            try file.append(Array(hasher.finalize()))
        }
    }

    private func requireOpenFile() throws {
        guard !closed else { throw CDFError.invalidDefinition("the file is already closed") }
    }

    static func validateName(_ name: String) throws {
        guard !name.isEmpty, name.utf8.count <= 256, !name.utf8.contains(0) else {
            throw CDFError.invalidDefinition("name '\(name)' must have 1 to 256 bytes and no NUL")
        }
    }

    static let copyright = "\nCommon Data Format (CDF)\nhttps://cdf.gsfc.nasa.gov\nSpace Physics Data Facility\nNASA/Goddard Space Flight Center\nGreenbelt, Maryland 20771 USA\n(User support: gsfc-cdf-support@lists.nasa.gov)\n"
}

/// One entry of a VXR: records `first...last` in the record at `offset`.
struct IndexEntry {
    let first: Int
    let last: Int
    let offset: Int
}

/// An attribute being written with its numbered entries (entry numbers are variable numbers for variable scope).
struct AttributeState {
    let name: String
    let isGlobal: Bool
    var entries: [(number: Int, entry: CDFAttributeEntry)]
}

/// A variable being written.
struct VariableState {
    let spec: CDFVariableSpec
    let number: Int
    let numElems: Int
    let recordBytes: Int
    let blockingFactor: Int
    var recordsWritten = 0
    var blocks: [IndexEntry] = []
    /// Bytes of an incomplete compressed block carried to the next append.
    var pending: [UInt8] = []
    var indexHead = 0
    var indexTail = 0

    init(spec: CDFVariableSpec, number: Int, numElems: Int, recordBytes: Int, blockingFactor: Int) {
        self.spec = spec
        self.number = number
        self.numElems = numElems
        self.recordBytes = recordBytes
        self.blockingFactor = blockingFactor
    }
}

/// Offsets of the descriptor records written after the data, computed before any is serialized.
struct DescriptorLayout {
    var adrOffsets: [Int] = []
    var aedrOffsets: [[Int]] = []
    var cprOffsets: [Int?] = []
    var vdrOffsets: [Int] = []
    var end: Int

    init(base: Int, attributes: [AttributeState], variables: [VariableState]) {
        var cursor = base
        for attribute in attributes {
            adrOffsets.append(cursor)
            cursor += 324
            var offsets: [Int] = []
            for (_, entry) in attribute.entries {
                offsets.append(cursor)
                cursor += 56 + entry.numElems * entry.dataType.elementSize
            }
            aedrOffsets.append(offsets)
        }
        for variable in variables {
            if variable.spec.compression != .none {
                cprOffsets.append(cursor)
                cursor += 28
            } else {
                cprOffsets.append(nil)
            }
            vdrOffsets.append(cursor)
            cursor += 344 + 8 * variable.spec.dimensions.count + variable.numElems * variable.spec.dataType.elementSize
        }
        end = cursor
    }

    func serialize(attributes: [AttributeState], variables: [VariableState]) throws -> [UInt8] {
        var out = RecordBuilder(capacity: end - (adrOffsets.first ?? vdrOffsets.first ?? end))
        for (number, attribute) in attributes.enumerated() {
            let entries = attribute.entries
            out.int64(324)
            out.int32(RecordType.adr.rawValue)
            out.int64(number + 1 < attributes.count ? adrOffsets[number + 1] : 0)
            out.int64(attribute.isGlobal && !entries.isEmpty ? aedrOffsets[number][0] : 0)
            out.int32(attribute.isGlobal ? 1 : 2)
            out.int32(number)
            out.int32(attribute.isGlobal ? entries.count : 0)
            out.int32(attribute.isGlobal ? (entries.map(\.number).max() ?? -1) : -1)
            out.int32(0)
            out.int64(!attribute.isGlobal && !entries.isEmpty ? aedrOffsets[number][0] : 0)
            out.int32(attribute.isGlobal ? 0 : entries.count)
            out.int32(attribute.isGlobal ? -1 : (entries.map(\.number).max() ?? -1))
            out.int32(-1)
            out.name(attribute.name)
            for (index, (entryNumber, entry)) in entries.enumerated() {
                let valueBytes = try ValueCodec.withLittleEndianBytes(of: entry.values, numElems: entry.numElems, name: attribute.name) { Array($0) }
                out.int64(56 + valueBytes.count)
                out.int32(attribute.isGlobal ? RecordType.agrEDR.rawValue : RecordType.azEDR.rawValue)
                out.int64(index + 1 < entries.count ? aedrOffsets[number][index + 1] : 0)
                out.int32(number)
                out.int32(entry.dataType.rawValue)
                out.int32(entryNumber)
                out.int32(entry.numElems)
                out.int32(entry.dataType.isString && !attribute.isGlobal ? 1 : 0)
                out.int32(0)
                out.int32(0)
                out.int32(-1)
                out.int32(-1)
                out.append(contentsOf: valueBytes)
            }
        }
        for (index, variable) in variables.enumerated() {
            let spec = variable.spec
            if cprOffsets[index] != nil {
                out.int64(28)
                out.int32(RecordType.cpr.rawValue)
                out.int32(spec.compression.code)
                out.int32(0)
                out.int32(1)
                out.int32(spec.compression.parameter)
            }
            let pad = spec.padValue ?? ValueCodec.defaultPad(spec.dataType, numElems: variable.numElems)
            let padBytes = try ValueCodec.withLittleEndianBytes(of: pad, numElems: variable.numElems, name: spec.name) { Array($0) }
            out.int64(344 + 8 * spec.dimensions.count + padBytes.count)
            out.int32(RecordType.zVDR.rawValue)
            out.int64(index + 1 < variables.count ? vdrOffsets[index + 1] : 0)
            out.int32(spec.dataType.rawValue)
            out.int32(variable.recordsWritten - 1)
            out.int64(variable.indexHead)
            out.int64(variable.indexTail)
            out.int32((spec.recordVarying ? 1 : 0) | 0b10 | (spec.compression == .none ? 0 : 0b100))
            out.int32(0)
            out.int32(0)
            out.int32(-1)
            out.int32(-1)
            out.int32(variable.numElems)
            out.int32(index)
            out.int64(cprOffsets[index] ?? -1)
            out.int32(variable.blockingFactor)
            out.name(spec.name)
            out.int32(spec.dimensions.count)
            for size in spec.dimensions { out.int32(size) }
            for _ in spec.dimensions { out.int32(-1) }
            out.append(contentsOf: padBytes)
        }
        return out.bytes
    }
}
