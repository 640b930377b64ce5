import SDCCore

/// Assembles the values of one variable from its VXR tree of VVR and CVVR blocks.
struct VariableDataReader {
    let source: ByteSource
    let layout: FormatLayout
    let header: CDFFileHeader
    let variable: CDFVariable

    /// A leaf of the VXR tree: records `first...last` stored in the record at `offset`.
    struct Block {
        let first: Int
        let last: Int
        let offset: Int
    }

    /// A block located and validated for reading.
    private struct PlannedBlock {
        let first: Int
        let last: Int
        let recordOffset: Int
        let dataOffset: Int
        /// Bytes of stored data: the payload of a VVR or the compressed size of a CVVR.
        let storedBytes: Int
        let compressed: Bool

        var recordCount: Int { last - first + 1 }
    }

    private var recordBytes: Int { variable.recordBytes }

    func read(records requested: Range<Int>) throws -> CDFValues {
        let records = requested.clamped(to: 0..<max(0, variable.recordCount))
        let plan = try planBlocks(for: records)
        let elementCount = records.count * variable.valuesPerRecord
        switch variable.dataType.storage {
        case .int8: return .int8(try assemble(Int8.self, records: records, plan: plan, count: elementCount))
        case .int16: return .int16(try assemble(Int16.self, records: records, plan: plan, count: elementCount))
        case .int32: return .int32(try assemble(Int32.self, records: records, plan: plan, count: elementCount))
        case .int64: return .int64(try assemble(Int64.self, records: records, plan: plan, count: elementCount))
        case .uint8: return .uint8(try assemble(UInt8.self, records: records, plan: plan, count: elementCount))
        case .uint16: return .uint16(try assemble(UInt16.self, records: records, plan: plan, count: elementCount))
        case .uint32: return .uint32(try assemble(UInt32.self, records: records, plan: plan, count: elementCount))
        case .float: return .float(try assemble(Float.self, records: records, plan: plan, count: elementCount))
        case .double: return .double(try assemble(Double.self, records: records, plan: plan, count: elementCount))
        case .epoch16: return .epoch16(try assemble(CDFEpoch16.self, records: records, plan: plan, count: elementCount))
        case .strings:
            let bytes = try assemble(UInt8.self, records: records, plan: plan, count: elementCount * variable.numElems)
            return .strings(bytes.withUnsafeBytes { ValueCodec.decodeStrings($0, width: variable.numElems, count: elementCount) })
        }
    }

    // MARK: - Index

    /// All leaves of the VXR tree, depth first, following each level's `VXRnext` chain.
    func leafBlocks() throws -> [Block] {
        var blocks: [Block] = []
        var seen = Set<Int>()
        if variable.indexHead != 0 {
            try collect(from: variable.indexHead, depth: 0, seen: &seen, into: &blocks)
        }
        return blocks
    }

    private func collect(from head: Int, depth: Int, seen: inout Set<Int>, into blocks: inout [Block]) throws {
        guard depth < 32 else {
            throw CDFError.malformed(record: "VXR", offset: head, reason: "index tree of '\(variable.name)' is deeper than 32 levels")
        }
        var offset = head
        while offset != 0 {
            guard seen.insert(offset).inserted else { throw CDFError.cycle(record: "VXR", offset: offset) }
            var vxr = try RecordCursor(source: source, offset: offset, layout: layout, expecting: [.vxr],
                                       minimumSize: layout.headerSize + layout.offsetWidth + 8)
            let next = try vxr.offsetField()
            let capacity = try vxr.count("Nentries", limit: vxr.remaining / (8 + layout.offsetWidth))
            let used = try vxr.count("NusedEntries", limit: capacity)
            var firsts: [Int] = []
            var lasts: [Int] = []
            for _ in 0..<capacity { firsts.append(Int(try vxr.int32())) }
            for _ in 0..<capacity { lasts.append(Int(try vxr.int32())) }
            var children: [Int] = []
            for _ in 0..<capacity { children.append(try vxr.offsetField()) }
            for index in 0..<used {
                let (first, last, child) = (firsts[index], lasts[index], children[index])
                guard first >= 0, last >= first else {
                    throw vxr.malformed("entry \(index) of '\(variable.name)' covers records \(first)...\(last)")
                }
                let type = try recordType(at: child, referencedBy: "VXR", from: offset)
                switch type {
                case .vxr: try collect(from: child, depth: depth + 1, seen: &seen, into: &blocks)
                case .vvr, .cvvr: blocks.append(Block(first: first, last: last, offset: child))
                default: throw CDFError.unexpectedRecordType(expected: "VVR/CVVR/VXR", found: type.rawValue, offset: child)
                }
            }
            offset = next
        }
    }

    private func recordHeader(at offset: Int, record: String) throws -> (size: Int, type: Int32) {
        let bytes = try source.bytes(at: offset, count: layout.headerSize, record: record)
        let size = layout.offsetWidth == 8 ? Int(Int64(bigEndianBytes: bytes, at: 0)) : Int(Int32(bigEndianBytes: bytes, at: 0))
        return (size, Int32(bigEndianBytes: bytes, at: layout.offsetWidth))
    }

    private func recordType(at offset: Int, referencedBy parent: String, from parentOffset: Int) throws -> RecordType {
        guard offset > 0, offset < source.count else {
            throw CDFError.malformed(record: parent, offset: parentOffset, reason: "pointer \(offset) lies outside the file")
        }
        let (_, code) = try recordHeader(at: offset, record: "record referenced by \(parent) at \(parentOffset)")
        guard let type = RecordType(rawValue: code) else {
            throw CDFError.unexpectedRecordType(expected: "VVR/CVVR/VXR", found: code, offset: offset)
        }
        return type
    }

    // MARK: - Planning

    private func planBlocks(for records: Range<Int>) throws -> [PlannedBlock] {
        guard !records.isEmpty else { return [] }
        var plan: [PlannedBlock] = []
        for block in try leafBlocks() where block.first < records.upperBound && block.last >= records.lowerBound {
            let (size, code) = try recordHeader(at: block.offset, record: "VVR")
            guard size >= layout.headerSize, size <= source.count - block.offset else {
                throw CDFError.truncated(record: code == RecordType.cvvr.rawValue ? "CVVR" : "VVR", offset: block.offset,
                                         needed: size, available: source.count - block.offset)
            }
            let (blockBytes, overflow) = (block.last - block.first + 1).multipliedReportingOverflow(by: recordBytes)
            guard !overflow else { throw CDFError.malformed(record: "VXR", offset: block.offset, reason: "block size overflows") }
            if code == RecordType.vvr.rawValue {
                let payload = size - layout.headerSize
                guard payload >= blockBytes else {
                    throw CDFError.malformed(record: "VVR", offset: block.offset,
                                             reason: "holds \(payload) bytes but records \(block.first)...\(block.last) of '\(variable.name)' need \(blockBytes)")
                }
                plan.append(PlannedBlock(first: block.first, last: block.last, recordOffset: block.offset,
                                         dataOffset: block.offset + layout.headerSize, storedBytes: payload, compressed: false))
            } else {
                let fieldsSize = layout.headerSize + 4 + layout.offsetWidth
                let fields = try source.bytes(at: block.offset, count: min(fieldsSize, size), record: "CVVR")
                guard fields.count == fieldsSize else {
                    throw CDFError.truncated(record: "CVVR", offset: block.offset, needed: fieldsSize, available: size)
                }
                let compressedSize = layout.offsetWidth == 8
                    ? Int(Int64(bigEndianBytes: fields, at: layout.headerSize + 4))
                    : Int(Int32(bigEndianBytes: fields, at: layout.headerSize + 4))
                guard compressedSize >= 0, compressedSize <= size - fieldsSize else {
                    throw CDFError.malformed(record: "CVVR", offset: block.offset,
                                             reason: "compressed size \(compressedSize) exceeds the record (\(size) bytes)")
                }
                let limit = variable.compression == .rle
                    ? ZeroRunLength.maximumDecodedSize(of: compressedSize)
                    : compressedSize * maximumDeflateRatio + 1024
                guard blockBytes <= limit else {
                    throw CDFError.allocationTooLarge(record: "CVVR", offset: block.offset, bytes: blockBytes, limit: limit)
                }
                plan.append(PlannedBlock(first: block.first, last: block.last, recordOffset: block.offset,
                                         dataOffset: block.offset + fieldsSize, storedBytes: compressedSize, compressed: true))
            }
        }
        plan.sort { $0.first < $1.first }
        var covered = 0
        var cursor = records.lowerBound
        for block in plan {
            let start = max(block.first, cursor)
            let end = min(block.last + 1, records.upperBound)
            if end > start {
                covered += end - start
                cursor = end
            }
        }
        let (gapBytes, overflow) = (records.count - covered).multipliedReportingOverflow(by: recordBytes)
        guard !overflow, gapBytes <= source.count else {
            throw CDFError.allocationTooLarge(record: variable.isZVariable ? "zVDR" : "rVDR", offset: variable.descriptorOffset,
                                              bytes: overflow ? Int.max : gapBytes, limit: source.count)
        }
        return plan
    }

    // MARK: - Assembly

    private func assemble<T>(_: T.Type, records: Range<Int>, plan: [PlannedBlock], count: Int) throws -> [T] {
        try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            let raw = UnsafeMutableRawBufferPointer(buffer)
            let covered = try fillBlocks(raw, records: records, plan: plan)
            let wordSize = variable.dataType == .epoch16 ? 8 : variable.dataType.elementSize
            if header.isBigEndian { ValueCodec.swapBytes(raw, wordSize: wordSize) }
            if !header.isRowMajor, variable.dimensions.count > 1 { transposeRecords(raw, recordCount: records.count) }
            try fillGaps(raw, records: records, covered: covered)
            initialized = count
        }
    }

    /// Copies or inflates every planned block into `output`; returns the covered record ranges (relative).
    private func fillBlocks(_ output: UnsafeMutableRawBufferPointer, records: Range<Int>, plan: [PlannedBlock]) throws -> [Range<Int>] {
        var covered: [Range<Int>] = []
        var compressed: [PlannedBlock] = []
        for block in plan {
            let start = max(block.first, records.lowerBound)
            let end = min(block.last + 1, records.upperBound)
            guard end > start else { continue }
            covered.append((start - records.lowerBound)..<(end - records.lowerBound))
            if block.compressed {
                compressed.append(block)
            } else {
                let target = UnsafeMutableRawBufferPointer(
                    rebasing: output[((start - records.lowerBound) * recordBytes)..<((end - records.lowerBound) * recordBytes)])
                try source.read(at: block.dataOffset + (start - block.first) * recordBytes, into: target, record: "VVR")
            }
        }
        if compressed.count == 1 {
            try inflate(compressed[0], into: output, records: records)
        } else if compressed.count > 1 {
            let blocks = compressed
            try Parallel.forEach(blocks.count, width: ProcessingPool.coreCount) { index in
                try inflate(blocks[index], into: output, records: records)
            }
        }
        return covered
    }

    private func inflate(_ block: PlannedBlock, into output: UnsafeMutableRawBufferPointer, records: Range<Int>) throws {
        let compressedBytes = try source.bytes(at: block.dataOffset, count: block.storedBytes, record: "CVVR")
        let start = max(block.first, records.lowerBound)
        let end = min(block.last + 1, records.upperBound)
        let target = UnsafeMutableRawBufferPointer(
            rebasing: output[((start - records.lowerBound) * recordBytes)..<((end - records.lowerBound) * recordBytes)])
        try compressedBytes.withUnsafeBytes { input in
            if start == block.first, end == block.last + 1 {
                try decompress(input, into: target, block: block)
            } else {
                var whole = [UInt8](repeating: 0, count: block.recordCount * recordBytes)
                try whole.withUnsafeMutableBytes { try decompress(input, into: $0, block: block) }
                whole.withUnsafeBytes { bytes in
                    target.copyMemory(from: UnsafeRawBufferPointer(
                        rebasing: bytes[((start - block.first) * recordBytes)..<((end - block.first) * recordBytes)]))
                }
            }
        }
    }

    private func decompress(_ input: UnsafeRawBufferPointer, into target: UnsafeMutableRawBufferPointer, block: PlannedBlock) throws {
        if variable.compression == .rle {
            try ZeroRunLength.decode(input, into: target, record: "CVVR", offset: block.recordOffset)
        } else {
            try Deflate.inflate(input, into: target, record: "CVVR", offset: block.recordOffset)
        }
    }

    /// Writes the pad value (or repeats the previous record for `previous` sparseness) into uncovered records.
    private func fillGaps(_ output: UnsafeMutableRawBufferPointer, records: Range<Int>, covered: [Range<Int>]) throws {
        var gaps: [Range<Int>] = []
        var cursor = 0
        for range in covered.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if range.lowerBound > cursor { gaps.append(cursor..<range.lowerBound) }
            cursor = max(cursor, range.upperBound)
        }
        if cursor < records.count { gaps.append(cursor..<records.count) }
        guard !gaps.isEmpty, recordBytes > 0 else { return }
        let pad = variable.padValue ?? ValueCodec.defaultPad(variable.dataType, numElems: variable.numElems)
        let padRecord: [UInt8] = try ValueCodec.withLittleEndianBytes(of: pad, numElems: variable.numElems, name: variable.name) { element in
            Array(repeatElement(Array(element.prefix(variable.numElems * variable.dataType.elementSize)), count: variable.valuesPerRecord).joined())
        }
        for gap in gaps {
            for record in gap {
                let target = UnsafeMutableRawBufferPointer(rebasing: output[(record * recordBytes)..<((record + 1) * recordBytes)])
                if variable.sparseRecords == .previous, record > 0 {
                    target.copyMemory(from: UnsafeRawBufferPointer(rebasing: output[((record - 1) * recordBytes)..<(record * recordBytes)]))
                } else {
                    padRecord.withUnsafeBytes { target.copyMemory(from: $0) }
                }
            }
        }
    }

    /// Reorders each record from column-major (first index fastest) to row-major (last index fastest).
    private func transposeRecords(_ output: UnsafeMutableRawBufferPointer, recordCount: Int) {
        let dims = variable.dimensions
        let unit = variable.numElems * variable.dataType.elementSize
        let count = variable.valuesPerRecord
        var columnStrides = [Int](repeating: 1, count: dims.count)
        for axis in 1..<dims.count { columnStrides[axis] = columnStrides[axis - 1] * dims[axis - 1] }
        var scratch = [UInt8](repeating: 0, count: recordBytes)
        for record in 0..<recordCount {
            let base = record * recordBytes
            scratch.withUnsafeMutableBytes { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: output[base..<(base + recordBytes)])) }
            scratch.withUnsafeBytes { source in
                for rowIndex in 0..<count {
                    var remainder = rowIndex
                    var columnIndex = 0
                    for axis in stride(from: dims.count - 1, through: 0, by: -1) {
                        columnIndex += (remainder % dims[axis]) * columnStrides[axis]
                        remainder /= dims[axis]
                    }
                    UnsafeMutableRawBufferPointer(rebasing: output[(base + rowIndex * unit)..<(base + (rowIndex + 1) * unit)])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[(columnIndex * unit)..<((columnIndex + 1) * unit)]))
                }
            }
        }
    }
}
