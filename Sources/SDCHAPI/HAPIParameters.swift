import SDCCDF
import SDCCore

/// HAPI's four data types (§3.6.7).
public enum HAPIType: String, Sendable {
    case isotime, string, integer, double
}

/// One HAPI parameter and the CDF variable it is read from.
public struct HAPIParameter: Sendable, Equatable {
    /// The HAPI name: the CDF variable's name.
    public var name: String
    public var type: HAPIType
    /// Bytes of a string or time (`length`); nil for numbers.
    public var length: Int?
    /// `size` of an array parameter (the variable's record shape); empty for scalars.
    public var size: [Int]
    /// The CDF type the values are stored as, to convert them.
    public var dataType: CDFDataType
    public var units: String?
    /// The fill value as HAPI writes it: a string formatted as the values are (§3.6.9).
    public var fill: String?
    public var description: String?
    public var label: String?
    /// `bins` of a spectrogram: one entry per dimension (§3.6.13); empty when no dimension has a `DEPEND_i`.
    public var bins: [JSONValue]

    /// Values per record.
    public var valuesPerRecord: Int { size.reduce(1, *) }

    /// The `parameters` entry of an `info` response.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("name", .string(name)), ("type", .string(type.rawValue))]
        if let length { members.append(("length", .int(length))) }
        if !size.isEmpty { members.append(("size", .array(size.map { JSONValue.int($0) }))) }
        members.append(("units", .string(units)))
        members.append(("fill", .string(fill)))
        if let description { members.append(("description", .string(description))) }
        if let label { members.append(("label", .string(label))) }
        if !bins.isEmpty { members.append(("bins", .array(bins))) }
        return .object(members)
    }
}

/// Why a CDF cannot be served as a HAPI dataset.
public struct HAPIDatasetError: Error, Sendable, CustomStringConvertible {
    public let description: String
}

/// The parameters of a dataset, read from one of its CDFs with the ISTP attributes of each variable.
public struct HAPIParameterList: Sendable, Equatable {
    /// The primary time first, then every other variable that varies with it, in file order.
    public var parameters: [HAPIParameter]

    /// The time variable's name (the first parameter's).
    public var timeName: String { parameters[0].name }

    /// Derives the parameters of a CDF: the time variable is the TT2000 variable the most variables name as `DEPEND_0`
    /// (IMAP: `epoch`); the parameters are the record-varying variables with that `DEPEND_0` whose type HAPI can
    /// carry (numbers, times, strings), in file order.
    public init(reader: CDFReader) throws {
        var dependCounts: [String: Int] = [:]
        for variable in reader.variables {
            if let depend = variable.attribute("DEPEND_0")?.stringValue { dependCounts[depend, default: 0] += 1 }
        }
        let timeCandidates = reader.variables.filter { $0.dataType == .tt2000 && $0.recordVarying }
        guard let time = timeCandidates.max(by: { dependCounts[$0.name, default: 0] < dependCounts[$1.name, default: 0] }) else {
            throw HAPIDatasetError(description: "no record-varying CDF_TIME_TT2000 variable to serve as the HAPI time")
        }
        var parameters = [HAPIParameter(name: time.name, type: .isotime, length: HAPITime.length, size: [], dataType: .tt2000,
                                        units: "UTC", fill: nil, description: Self.text(time, "CATDESC"), label: nil, bins: [])]
        for variable in reader.variables where variable.name != time.name && variable.recordVarying
            && variable.attribute("DEPEND_0")?.stringValue == time.name {
            guard let parameter = Self.parameter(variable, reader: reader) else { continue }
            parameters.append(parameter)
        }
        self.parameters = parameters
    }

    init(parameters: [HAPIParameter]) { self.parameters = parameters }

    /// The parameters a `parameters=` request names: all when `names` is empty, else the time plus the named ones,
    /// which must exist (1407) and follow the dataset's order without repeats (1411, §3.6.1 "Subsetting Parameters").
    public func subset(_ names: [String]) throws(HAPIError) -> HAPIParameterList {
        guard !names.isEmpty else { return self }
        var indices: [Int] = []
        for name in names {
            guard let index = parameters.firstIndex(where: { $0.name == name }) else {
                throw HAPIError(.unknownDatasetParameter, "'\(name)' is not a parameter of this dataset")
            }
            if let last = indices.last, index <= last {
                throw HAPIError(.parameterOrder, "'\(name)' is repeated or out of the dataset's order (\(parameters.map(\.name).joined(separator: ",")))")
            }
            indices.append(index)
        }
        if indices.first != 0 { indices.insert(0, at: 0) }
        return HAPIParameterList(parameters: indices.map { parameters[$0] })
    }

    private static func parameter(_ variable: CDFVariable, reader: CDFReader) -> HAPIParameter? {
        let type: HAPIType
        var length: Int?
        switch variable.dataType {
        case .int1, .byte, .int2, .int4, .uint1, .uint2: type = .integer
        // Values beyond the 4-byte signed integers HAPI has travel as doubles (exact for CDF_UINT4).
        case .uint4, .int8, .real4, .float, .real8, .double: type = .double
        case .tt2000: type = .isotime; length = HAPITime.length
        case .char, .uchar: type = .string; length = max(1, variable.numElems)
        case .epoch, .epoch16: return nil
        }
        // `size` [1] is discouraged (§3.6.7): a one-element record is a scalar.
        let size = variable.dimensions.allSatisfy { $0 == 1 } ? [] : variable.dimensions
        let units = type == .isotime ? "UTC" : text(variable, "UNITS")
        return HAPIParameter(
            name: variable.name, type: type, length: length, size: size, dataType: variable.dataType, units: units,
            fill: fill(of: variable, type: type), description: text(variable, "CATDESC"),
            label: text(variable, "LABLAXIS") ?? text(variable, "FIELDNAM"), bins: bins(of: variable, size: size, reader: reader))
    }

    /// A string attribute, nil when absent or blank (HAPI allows neither `""` units nor labels).
    static func text(_ variable: CDFVariable, _ name: String) -> String? {
        guard let value = variable.attribute(name)?.stringValue?.trimmingTrailingPadding(), !value.trimmingSpaces().isEmpty else { return nil }
        return value
    }

    /// `FILLVAL` written as the data are, so that a client can compare the two strings (§3.6.9).
    static func fill(of variable: CDFVariable, type: HAPIType) -> String? {
        guard let entry = variable.attribute("FILLVAL") else { return nil }
        if type == .string { return entry.stringValue?.trimmingTrailingPadding() }
        guard let values = try? ValueColumn(values: entry.values, dataType: variable.dataType), values.count > 0 else { return nil }
        var bytes: [UInt8] = []
        values.appendText(at: 0, type: type, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `bins` of an array parameter: each dimension `i` whose `DEPEND_i` names a numeric variable of that many values
    /// becomes bins with `centers` — the values for a constant variable, the name of the parameter for a
    /// record-varying one (§3.6.13 "Time-Varying Bins"); other dimensions get `"centers": null`.
    static func bins(of variable: CDFVariable, size: [Int], reader: CDFReader) -> [JSONValue] {
        guard !size.isEmpty else { return [] }
        var bins: [JSONValue] = []
        var anyCenters = false
        for (index, count) in size.enumerated() {
            var centers = JSONValue.null
            var name = "\(variable.name)_dimension_\(index + 1)"
            var units = "dimensionless"
            if let dependName = variable.attribute("DEPEND_\(index + 1)")?.stringValue,
               let depend = try? reader.variable(named: dependName), !depend.dataType.isString, !depend.dataType.isTime {
                name = depend.name
                units = text(depend, "UNITS") ?? units
                if depend.recordVarying, depend.valuesPerRecord == count,
                   depend.attribute("DEPEND_0")?.stringValue == variable.attribute("DEPEND_0")?.stringValue {
                    centers = .string(depend.name)
                } else if !depend.recordVarying, depend.valuesPerRecord == count,
                          let values = try? reader.values(of: depend, records: 0..<min(1, depend.recordCount)),
                          let column = try? ValueColumn(values: values, dataType: depend.dataType), column.count == count {
                    centers = .array((0..<count).map { JSONValue.double(column.double(at: $0)) })
                }
            }
            if centers != .null { anyCenters = true }
            bins.append(.object([("name", .string(name)), ("units", .string(units)), ("centers", centers)]))
        }
        return anyCenters ? bins : []
    }
}

extension String {
    /// Without trailing NUL bytes and spaces (CDF strings are padded to their declared length).
    func trimmingTrailingPadding() -> String {
        var scalars = unicodeScalars[...]
        while let last = scalars.last, last == "\0" || last == " " { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }

    func trimmingSpaces() -> String {
        var scalars = unicodeScalars[...]
        while let first = scalars.first, first == " " || first == "\t" { scalars = scalars.dropFirst() }
        return String(String.UnicodeScalarView(scalars)).trimmingTrailingPadding()
    }
}
