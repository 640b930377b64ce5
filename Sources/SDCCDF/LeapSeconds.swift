/// The leap-second table CDF uses (`CDFLeapSeconds.txt` of the CDF distribution and cdflib), kept as data:
/// the next leap second is a change to `rows`, not to code.
public struct LeapSecondTable: Sendable {
    /// One row: from `year-month-day` on, TAI − UTC = `offset + (MJD − mjdBase) · drift` seconds.
    public struct Row: Sendable {
        public let year: Int
        public let month: Int
        public let day: Int
        public let offset: Double
        public let mjdBase: Double
        public let drift: Double
    }

    public let rows: [Row]
    /// `GDR.LeapSecondLastUpdated` for files written with this table.
    public let lastUpdated: Int

    /// Parses the text format of `CDFLeapSeconds.txt` (`;` starts a comment line).
    public init(text: String, lastUpdated: Int) throws {
        var rows: [Row] = []
        for line in text.split(separator: "\n") where !line.hasPrefix(";") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count == 6,
                  let year = Int(fields[0]), let month = Int(fields[1]), let day = Int(fields[2]),
                  let offset = Double(fields[3]), let base = Double(fields[4]), let drift = Double(fields[5])
            else { throw CDFError.invalidTime("leap-second table line '\(line)'") }
            rows.append(Row(year: year, month: month, day: day, offset: offset, mjdBase: base, drift: drift))
        }
        guard !rows.isEmpty else { throw CDFError.invalidTime("empty leap-second table") }
        self.rows = rows
        self.lastUpdated = lastUpdated
    }

    /// The table shipped with cdflib 1.3.16 (last leap second 2017-01-01, TAI − UTC = 37 s).
    public static let standard: LeapSecondTable = {
        // The literal below is well-formed; a parse failure would be a programming error caught by the tests.
        guard let table = try? LeapSecondTable(text: standardText, lastUpdated: 20170101) else {
            preconditionFailure("built-in leap-second table does not parse")
        }
        return table
    }()

    static let standardText = """
        ; Year Month Day Leap Seconds      Drift
          1960   1    1    1.4178180  37300.0  0.001296
          1961   1    1    1.4228180  37300.0  0.001296
          1961   8    1    1.3728180  37300.0  0.001296
          1962   1    1    1.8458580  37665.0  0.0011232
          1963  11    1    1.9458580  37665.0  0.0011232
          1964   1    1    3.2401300  38761.0  0.001296
          1964   4    1    3.3401300  38761.0  0.001296
          1964   9    1    3.4401300  38761.0  0.001296
          1965   1    1    3.5401300  38761.0  0.001296
          1965   3    1    3.6401300  38761.0  0.001296
          1965   7    1    3.7401300  38761.0  0.001296
          1965   9    1    3.8401300  38761.0  0.001296
          1966   1    1    4.3131700  39126.0  0.002592
          1968   2    1    4.2131700  39126.0  0.002592
          1972   1    1   10.0            0.0  0.0
          1972   7    1   11.0            0.0  0.0
          1973   1    1   12.0            0.0  0.0
          1974   1    1   13.0            0.0  0.0
          1975   1    1   14.0            0.0  0.0
          1976   1    1   15.0            0.0  0.0
          1977   1    1   16.0            0.0  0.0
          1978   1    1   17.0            0.0  0.0
          1979   1    1   18.0            0.0  0.0
          1980   1    1   19.0            0.0  0.0
          1981   7    1   20.0            0.0  0.0
          1982   7    1   21.0            0.0  0.0
          1983   7    1   22.0            0.0  0.0
          1985   7    1   23.0            0.0  0.0
          1988   1    1   24.0            0.0  0.0
          1990   1    1   25.0            0.0  0.0
          1991   1    1   26.0            0.0  0.0
          1992   7    1   27.0            0.0  0.0
          1993   7    1   28.0            0.0  0.0
          1994   7    1   29.0            0.0  0.0
          1996   1    1   30.0            0.0  0.0
          1997   7    1   31.0            0.0  0.0
          1999   1    1   32.0            0.0  0.0
          2006   1    1   33.0            0.0  0.0
          2009   1    1   34.0            0.0  0.0
          2012   7    1   35.0            0.0  0.0
          2015   7    1   36.0            0.0  0.0
          2017   1    1   37.0            0.0  0.0
        """
}
