import Foundation
import SDCCDF
import SDCCore
import SDCJobs
import SDCPackets

/// sdc's built-in Level 0 → Level 1A algorithm, following imap-processing's conventions (xtce-ccsds.md §4): decode
/// the L0 packets with the instrument's XTCE; per packet container (APID), take raw values; convert the mission
/// elapsed time (the 8th field) to a TT2000 `epoch`; sort by epoch; drop repeated `(epoch, sequence count)` packets;
/// log sequence-count gaps; write one ISTP CDF per product with attributes from the instrument's YAML, validate it,
/// and hand it back for ingest.
struct XTCEL1AAlgorithm {
    let configuration: XTCEL1AConfiguration

    /// Why the algorithm failed.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The index of the MET field (`SHCOARSE`/`MET`), after the seven CCSDS header fields.
    static let timeFieldIndex = 7
    static let sequenceWrap = 16_384
    /// Threads a job decodes and compresses on: it runs on a thread of ``ProcessingPool/shared`` and its parallel loops
    /// take the pool's other threads, so jobs never use more than the pool, whose lower priority leaves requests the
    /// CPU they need.
    static var parallelism: Int { ProcessingPool.shared.threadCount }

    func run(job: Job, inputs: [URL], outputFolder: URL, log: (String) -> Void) throws -> [URL] {
        guard let instrument = job.product.instrument else { throw Failure(description: "\(job.product) is not an instrument product") }
        let definition = try PacketDefinition(contentsOf: configuration.xtce)
        let decoder = PacketDecoder(definition: definition)
        var byContainer: [String: [DecodedContainer]] = [:]
        for input in inputs {
            let decoded = try decoder.decode(fileAt: input, options: DecodeOptions(parallelism: Self.parallelism))
            log("decoded \(input.lastPathComponent): \(decoded.containers.map { "\($0.name) (APID \($0.apid)): \($0.count) packets" }.joined(separator: ", "))")
            for container in decoded.containers where container.count > 0 {
                byContainer[container.name, default: []].append(container)
            }
        }
        guard !byContainer.isEmpty else { throw Failure(description: "no packet of \(configuration.xtce.lastPathComponent) in \(inputs.map(\.lastPathComponent))") }
        let layers = try ISTPAttributeLayers.imap(folder: configuration.attributesFolder.path, instrument: instrument.rawValue,
                                                  variableFiles: configuration.variableAttributeFiles)
        var products: [URL] = []
        for (containerName, parts) in byContainer.sorted(by: { $0.key < $1.key }) {
            let descriptor = configuration.products[containerName] ?? containerName.lowercased().replacingOccurrences(of: "_", with: "-")
            for container in parts where container.fields.count > Self.timeFieldIndex {
                let name = ScienceFileName(instrument: instrument, dataLevel: .l1a, descriptor: descriptor, startDate: job.startDate,
                                           repointing: job.repointing, version: job.version, fileExtension: "cdf").name
                let url = outputFolder.appendingPathComponent(name)
                try write(container, to: url, descriptor: descriptor, instrument: instrument, job: job, layers: layers, log: log)
                products.append(url)
            }
        }
        return products
    }

    /// Writes one product and validates it.
    private func write(_ container: DecodedContainer, to url: URL, descriptor: String, instrument: Instrument, job: Job,
                       layers: ISTPAttributeLayers, log: (String) -> Void) throws {
        let met = try Self.integers(container.fields[Self.timeFieldIndex].raw, field: container.fields[Self.timeFieldIndex].name)
        let epochs = met.map { configuration.epochOffsetNanoseconds + $0 * 1_000_000_000 }
        let sequence = try container.field(named: "SRC_SEQ_CTR").map { try Self.integers($0.raw, field: $0.name) }
            ?? Array(repeating: 0, count: container.count)
        let order = Self.sortedUniquePackets(epochs: epochs, sequence: sequence)
        if order.count < container.count {
            log("Found [\(container.count - order.count)] duplicate packets for APID \(container.apid). Dropping duplicate packets and continuing processing.")
        }
        let gaps = Self.sequenceGaps(order.map { sequence[$0] })
        if !gaps.pairs.isEmpty {
            log("Found [\(gaps.pairs.count)] gap(s) in source sequence counter for APID \(container.apid) at \(gaps.pairs.prefix(20).map { "(\($0.0), \($0.1))" }) (\(gaps.missing) total missing packets)")
        }

        let logicalSource = "imap_\(instrument.rawValue)_l1a_\(descriptor)"
        var fileLayers = layers
        fileLayers.fillPerFileValues(logicalSource: logicalSource, startDate: job.startDate.description, version: job.version.dataVersion,
                                     generationDate: UTCTime.now.date.description, softwareVersion: "sdc")
        fileLayers.setGlobalAttribute("Parents", .list(job.inputNames.map(ISTPValue.string)))
        if fileLayers.globalValues[logicalSource] == nil {
            log("no global attributes for \(logicalSource) in the instrument's YAML: using its instrument_base and generated names")
            Self.describeProduct(logicalSource, instrument: instrument, descriptor: descriptor, in: &fileLayers)
        }
        var usedNames: Set<String> = ["epoch"]
        try CDFWriter.write(to: url.path, options: CDFWriteOptions(parallelism: Self.parallelism)) { writer in
            for attribute in try fileLayers.cdfGlobalAttributes(for: logicalSource) {
                try writer.addGlobalAttribute(attribute.name, entries: attribute.entries)
            }
            let epochAttributes = try fileLayers.cdfVariableAttributes("epoch", dataType: .tt2000)
            try writer.writeVariable(CDFVariableSpec(name: "epoch", dataType: .tt2000, compression: .gzip6, attributes: epochAttributes),
                                     values: .int64(order.map { epochs[$0] }))
            for field in container.fields {
                var name = Self.variableName(field.name)
                while usedNames.contains(name) { name += "_" }
                usedNames.insert(name)
                let (dataType, dimensions, values) = try Self.cdfValues(field.raw, order: order)
                let attributes = try Self.attributes(for: name, field: field, dataType: dataType, layers: fileLayers)
                try writer.writeVariable(CDFVariableSpec(name: name, dataType: dataType, dimensions: dimensions, compression: .gzip6,
                                                         attributes: attributes), values: values)
            }
        }
        let report = ISTPValidator().validate(try CDFReader(path: url.path))
        for warning in report.warnings { log("ISTP warning in \(url.lastPathComponent): \(warning)") }
        guard report.errors.isEmpty else {
            throw Failure(description: "\(url.lastPathComponent) fails ISTP validation: \(report.errors.map(\.description).joined(separator: "; "))")
        }
        log("wrote \(url.lastPathComponent): \(order.count) records, \(container.fields.count + 1) variables")
    }

    /// Gives a product that the attribute YAML does not describe the instrument's common attributes (the
    /// `instrument_base` mapping IMAP's files share) and generated `Logical_source`, `Data_type` and description.
    static func describeProduct(_ logicalSource: String, instrument: Instrument, descriptor: String, in layers: inout ISTPAttributeLayers) {
        if let base = layers.globalValues["instrument_base"] {
            for key in base.keys { if let value = base[key] { layers.setGlobalAttribute(key, value) } }
        }
        let name = instrument.rawValue.uppercased()
        layers.setGlobalAttribute("Logical_source", .string(logicalSource))
        layers.setGlobalAttribute("Data_type", .string("L1A_\(descriptor.uppercased())>Level-1A \(descriptor) data"))
        layers.setGlobalAttribute("Logical_source_description", .string("IMAP Mission \(name) Instrument Level-1A \(descriptor) Data"))
    }

    /// Packet indices in epoch order (stable), keeping the first of each repeated `(epoch, sequence count)`.
    static func sortedUniquePackets(epochs: [Int64], sequence: [Int64]) -> [Int] {
        let sorted = epochs.indices.sorted { (epochs[$0], $0) < (epochs[$1], $1) }
        var seen = Set<[Int64]>()
        return sorted.filter { seen.insert([epochs[$0], sequence[$0]]).inserted }
    }

    /// Breaks in a 14-bit sequence counter: the `(before, after)` pairs and the number of packets missing.
    static func sequenceGaps(_ counts: [Int64]) -> (pairs: [(Int64, Int64)], missing: Int64) {
        var pairs: [(Int64, Int64)] = []
        var missing: Int64 = 0
        for (before, after) in zip(counts, counts.dropFirst()) where after != (before + 1) % Int64(sequenceWrap) {
            pairs.append((before, after))
            missing += ((after - before - 1) % Int64(sequenceWrap) + Int64(sequenceWrap)) % Int64(sequenceWrap)
        }
        return (pairs, missing)
    }

    /// imap-processing's variable names: lower case, anything up to the first `.` removed.
    static func variableName(_ field: String) -> String {
        let lower = field.lowercased()
        return lower.firstIndex(of: ".").map { String(lower[lower.index(after: $0)...]) } ?? lower
    }

    static func integers(_ column: Column, field: String) throws -> [Int64] {
        switch column {
        case .uint8(let v): v.map(Int64.init)
        case .uint16(let v): v.map(Int64.init)
        case .uint32(let v): v.map(Int64.init)
        case .uint64(let v): v.map { Int64(truncatingIfNeeded: $0) }
        case .int8(let v): v.map(Int64.init)
        case .int16(let v): v.map(Int64.init)
        case .int32(let v): v.map(Int64.init)
        case .int64(let v): v
        default: throw Failure(description: "field \(field) is not an integer field")
        }
    }

    /// The CDF type, record shape and values of a raw column, in packet order `order`. Binary fields become a
    /// UINT1 array per record, padded with zeros to the longest value.
    static func cdfValues(_ column: Column, order: [Int]) throws -> (CDFDataType, [Int], CDFValues) {
        func pick<T>(_ values: [T]) -> [T] { order.map { values[$0] } }
        switch column {
        case .uint8(let v): return (.uint1, [], .uint8(pick(v)))
        case .uint16(let v): return (.uint2, [], .uint16(pick(v)))
        case .uint32(let v): return (.uint4, [], .uint32(pick(v)))
        case .uint64(let v): return (.int8, [], .int64(pick(v).map { Int64(truncatingIfNeeded: $0) }))
        case .int8(let v): return (.int1, [], .int8(pick(v)))
        case .int16(let v): return (.int2, [], .int16(pick(v)))
        case .int32(let v): return (.int4, [], .int32(pick(v)))
        case .int64(let v): return (.int8, [], .int64(pick(v)))
        case .float32(let v): return (.real4, [], .float(pick(v)))
        case .float64(let v): return (.real8, [], .double(pick(v)))
        case .boolean(let v): return (.uint1, [], .uint8(pick(v).map { $0 ? 1 : 0 }))
        case .string(let v): return (.char, [], .strings(pick(v)))
        case .bytes(let column):
            let width = max(1, order.map { column[$0].count }.max() ?? 1)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(order.count * width)
            for index in order {
                let value = column[index]
                bytes.append(contentsOf: value)
                bytes.append(contentsOf: repeatElement(0, count: width - value.count))
            }
            return (.uint1, [width], .uint8(bytes))
        }
    }

    /// The variable's attributes: ISTP defaults for a raw telemetry field, overridden by the instrument's YAML.
    static func attributes(for name: String, field: DecodedField, dataType: CDFDataType, layers: ISTPAttributeLayers) throws -> [CDFNamedEntry] {
        let description = field.parameter.shortDescription ?? field.parameter.longDescription ?? field.name
        var defaults: [CDFNamedEntry] = [
            CDFNamedEntry("CATDESC", .string(description.isEmpty ? field.name : description)),
            CDFNamedEntry("DEPEND_0", .string("epoch")),
            CDFNamedEntry("DISPLAY_TYPE", .string("time_series")),
            CDFNamedEntry("FIELDNAM", .string(name)),
            CDFNamedEntry("FORMAT", .string(dataType.isString ? "A80" : "I20")),
            CDFNamedEntry("LABLAXIS", .string(name)),
            CDFNamedEntry("UNITS", .string(field.parameter.unit ?? " ")),
            CDFNamedEntry("VAR_TYPE", .string("support_data")),
        ]
        if !dataType.isString {
            let (fill, minimum, maximum) = try Self.limits(of: dataType)
            defaults += [CDFNamedEntry("FILLVAL", fill), CDFNamedEntry("VALIDMIN", minimum), CDFNamedEntry("VALIDMAX", maximum)]
        }
        let configured = (try? layers.cdfVariableAttributes(name, dataType: dataType, checkSchema: false)) ?? []
        var merged = defaults.filter { entry in !configured.contains { $0.name == entry.name } }
        merged.append(contentsOf: configured)
        return merged
    }

    /// ISTP fill value and valid range of a numeric type, typed like the variable.
    static func limits(of type: CDFDataType) throws -> (CDFAttributeEntry, CDFAttributeEntry, CDFAttributeEntry) {
        switch type {
        case .uint1: (try .init(dataType: type, values: .uint8([255])), try .init(dataType: type, values: .uint8([0])), try .init(dataType: type, values: .uint8([254])))
        case .uint2: (try .init(dataType: type, values: .uint16([65535])), try .init(dataType: type, values: .uint16([0])), try .init(dataType: type, values: .uint16([65534])))
        case .uint4: (try .init(dataType: type, values: .uint32([4_294_967_295])), try .init(dataType: type, values: .uint32([0])), try .init(dataType: type, values: .uint32([4_294_967_294])))
        case .int1: (try .init(dataType: type, values: .int8([-128])), try .init(dataType: type, values: .int8([-127])), try .init(dataType: type, values: .int8([127])))
        case .int2: (try .init(dataType: type, values: .int16([-32768])), try .init(dataType: type, values: .int16([-32767])), try .init(dataType: type, values: .int16([32767])))
        case .int4: (try .init(dataType: type, values: .int32([Int32.min])), try .init(dataType: type, values: .int32([Int32.min + 1])), try .init(dataType: type, values: .int32([Int32.max])))
        case .real4: (try .init(dataType: type, values: .float([-1e31])), try .init(dataType: type, values: .float([-Float.greatestFiniteMagnitude])), try .init(dataType: type, values: .float([Float.greatestFiniteMagnitude])))
        case .real8: (try .init(dataType: type, values: .double([-1e31])), try .init(dataType: type, values: .double([-Double.greatestFiniteMagnitude])), try .init(dataType: type, values: .double([Double.greatestFiniteMagnitude])))
        default: (try .init(dataType: .int8, values: .int64([Int64.min])), try .init(dataType: .int8, values: .int64([Int64.min + 1])), try .init(dataType: .int8, values: .int64([Int64.max])))
        }
    }
}
