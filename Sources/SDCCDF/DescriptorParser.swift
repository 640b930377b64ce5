/// Parses the descriptor records (VDR, ADR, AEDR, CPR) of a CDF and walks their linked lists.
struct DescriptorParser {
    let source: ByteSource
    let layout: FormatLayout
    let bigEndian: Bool
    let rDimSizes: [Int]

    /// An attribute with its entries, before they are distributed to variables.
    struct Attribute {
        let name: String
        let isGlobal: Bool
        /// Global entries (or rVariable entries for variable-scope attributes), by entry number.
        var globalEntries: [(number: Int, entry: CDFAttributeEntry)] = []
        /// zVariable entries by variable number.
        var zEntries: [(number: Int, entry: CDFAttributeEntry)] = []
    }

    /// Follows a chain of records from `head`, calling `visit` with each offset; `visit` returns the next offset.
    /// Stops at a 0 pointer or after `count` records; a revisited offset is an error.
    func walkChain(head: Int, count: Int, record: String, _ visit: (Int) throws -> Int) throws {
        var offset = head
        var seen = Set<Int>()
        var visited = 0
        while offset != 0, visited < count {
            guard seen.insert(offset).inserted else { throw CDFError.cycle(record: record, offset: offset) }
            guard offset > 0, offset < source.count else {
                throw CDFError.malformed(record: record, offset: offset, reason: "pointer \(offset) lies outside the file (\(source.count) bytes)")
            }
            offset = try visit(offset)
            visited += 1
        }
    }

    func variables(head: Int, count: Int, type: RecordType) throws -> [CDFVariable] {
        var result: [CDFVariable] = []
        try walkChain(head: head, count: count, record: type.name) { offset in
            let (variable, next) = try variable(at: offset, type: type, number: result.count)
            result.append(variable)
            return next
        }
        return result
    }

    private func variable(at offset: Int, type: RecordType, number: Int) throws -> (CDFVariable, Int) {
        var vdr = try RecordCursor(source: source, offset: offset, layout: layout, expecting: [type],
                                   minimumSize: layout.headerSize + 4 * layout.offsetWidth + 40 + layout.vdrPre25Padding + layout.nameWidth)
        let next = try vdr.offsetField()
        let typeCode = try vdr.int32()
        guard let dataType = CDFDataType(rawValue: typeCode) else {
            throw CDFError.unsupportedDataType(code: typeCode, record: vdr.name, offset: offset)
        }
        let maxRecord = Int(try vdr.int32())
        let indexHead = try vdr.offsetField()
        _ = try vdr.offsetField() // VXRtail
        let flags = try vdr.int32()
        let sparseCode = try vdr.int32()
        try vdr.skip(12 + layout.vdrPre25Padding)
        let numElems = Int(try vdr.int32())
        _ = try vdr.int32() // Num: variables are numbered by chain position
        let cprOffset = try vdr.offsetField()
        let blockingFactor = Int(try vdr.int32())
        let name = try vdr.nameField()

        guard maxRecord >= -1 else { throw vdr.malformed("MaxRec \(maxRecord) is negative") }
        guard numElems >= 1, numElems <= source.count else { throw vdr.malformed("NumElems \(numElems) is invalid") }
        guard dataType.isString || numElems == 1 else {
            throw vdr.malformed("numeric variable '\(name)' has NumElems \(numElems) (must be 1)")
        }
        var fileDimensions: [Int] = []
        if type == .zVDR {
            let dimensionCount = try vdr.count("zNumDims", limit: vdr.remaining / 8)
            for _ in 0..<dimensionCount { fileDimensions.append(Int(try vdr.int32())) }
        } else {
            fileDimensions = rDimSizes
        }
        var varys: [Bool] = []
        for _ in fileDimensions { varys.append(try vdr.int32() != 0) }
        var recordBytes = numElems * dataType.elementSize
        for size in fileDimensions {
            guard size >= 1 else { throw vdr.malformed("dimension size \(size) of '\(name)' is invalid") }
        }
        var dimensions: [Int] = []
        for (size, varies) in zip(fileDimensions, varys) where varies {
            let (product, overflow) = recordBytes.multipliedReportingOverflow(by: size)
            guard !overflow, product <= Int(Int32.max) else { throw vdr.malformed("record size of '\(name)' overflows") }
            recordBytes = product
            dimensions.append(size)
        }
        var padValue: CDFValues?
        if flags & 0b10 != 0 {
            let bytes = try vdr.take(numElems * dataType.elementSize)
            padValue = bytes.withUnsafeBytes {
                ValueCodec.decode($0, type: dataType, numElems: numElems, count: 1, bigEndian: bigEndian)
            }
        }
        var compression = CDFCompression.none
        if flags & 0b100 != 0, cprOffset > 0 {
            compression = try self.compression(at: cprOffset)
        }
        let variable = CDFVariable(
            name: name, number: number, isZVariable: type == .zVDR, dataType: dataType, numElems: numElems,
            dimensions: dimensions, recordVarying: flags & 1 != 0, maxRecord: maxRecord, padValue: padValue,
            compression: compression, blockingFactor: max(0, blockingFactor),
            sparseRecords: CDFSparseRecords(rawValue: sparseCode) ?? .none, attributes: [],
            descriptorOffset: offset, indexHead: indexHead, fileDimensions: fileDimensions)
        return (variable, next)
    }

    func compression(at offset: Int) throws -> CDFCompression {
        var cpr = try RecordCursor(source: source, offset: offset, layout: layout, expecting: [.cpr, .spr], minimumSize: layout.headerSize + 12)
        guard cpr.type == .cpr else { return .none }
        let code = try cpr.int32()
        _ = try cpr.int32()
        let parameterCount = try cpr.count("pCount", limit: cpr.remaining / 4)
        let parameter = parameterCount > 0 ? try cpr.int32() : 0
        return try CDFCompression(code: code, parameter: parameter, record: "CPR", offset: offset)
    }

    func attributes(head: Int, count: Int) throws -> [Attribute] {
        var result: [Attribute] = []
        try walkChain(head: head, count: count, record: "ADR") { offset in
            var adr = try RecordCursor(source: source, offset: offset, layout: layout, expecting: [.adr],
                                       minimumSize: layout.headerSize + 3 * layout.offsetWidth + 32 + layout.nameWidth)
            let next = try adr.offsetField()
            let globalHead = try adr.offsetField()
            let scope = try adr.int32()
            _ = try adr.int32() // Num
            let globalCount = try adr.count("NgrEntries", limit: source.count / 16)
            _ = try adr.int32() // MAXgrEntry
            _ = try adr.int32() // rfuA
            let zHead = try adr.offsetField()
            let zCount = try adr.count("NzEntries", limit: source.count / 16)
            _ = try adr.int32() // MAXzEntry
            _ = try adr.int32() // rfuE
            let name = try adr.nameField()
            var attribute = Attribute(name: name, isGlobal: scope == 1 || scope == 3)
            attribute.globalEntries = try entries(head: globalHead, count: globalCount, type: .agrEDR)
            attribute.zEntries = try entries(head: zHead, count: zCount, type: .azEDR)
            attribute.globalEntries.sort { $0.number < $1.number }
            result.append(attribute)
            return next
        }
        return result
    }

    private func entries(head: Int, count: Int, type: RecordType) throws -> [(number: Int, entry: CDFAttributeEntry)] {
        var result: [(number: Int, entry: CDFAttributeEntry)] = []
        try walkChain(head: head, count: count, record: type.name) { offset in
            var aedr = try RecordCursor(source: source, offset: offset, layout: layout, expecting: [type],
                                        minimumSize: layout.headerSize + layout.offsetWidth + 36)
            let next = try aedr.offsetField()
            _ = try aedr.int32() // AttrNum
            let typeCode = try aedr.int32()
            guard let dataType = CDFDataType(rawValue: typeCode) else {
                throw CDFError.unsupportedDataType(code: typeCode, record: aedr.name, offset: offset)
            }
            let number = Int(try aedr.int32())
            let numElems = try aedr.count("NumElems", limit: aedr.size)
            try aedr.skip(20)
            guard numElems >= 1 else { throw aedr.malformed("NumElems is 0") }
            let valueBytes = try aedr.take(numElems * dataType.elementSize)
            let values = valueBytes.withUnsafeBytes { raw in
                dataType.isString
                    ? ValueCodec.decode(raw, type: dataType, numElems: numElems, count: 1, bigEndian: bigEndian)
                    : ValueCodec.decode(raw, type: dataType, numElems: 1, count: numElems, bigEndian: bigEndian)
            }
            result.append((number, CDFAttributeEntry(unchecked: dataType, values: values)))
            return next
        }
        return result
    }
}
