/// A file name parsed under one mission's grammar: an IMAP name or a SWxSOC name.
public enum MissionFileName: Sendable, Hashable, CustomStringConvertible {
    case imap(IMAPFileName)
    case swxsoc(SWxSOCFileName)

    /// The basename exactly as given.
    public var name: String {
        switch self {
        case .imap(let file): file.name
        case .swxsoc(let file): file.name
        }
    }

    /// The mission the name belongs to.
    public var mission: String {
        switch self {
        case .imap: "imap"
        case .swxsoc(let file): file.mission
        }
    }

    /// The class reported by `sdc name parse` (`science`, `ancillary`, ... for IMAP; `raw` or `science` for SWxSOC).
    public var className: String {
        switch self {
        case .imap(let file): file.fileClass.rawValue
        case .swxsoc(let file): file.kind.className
        }
    }

    /// The canonical storage key.
    public var key: String {
        switch self {
        case .imap(let file): file.key
        case .swxsoc(let file): file.key
        }
    }

    /// The instrument's name, when the name has one (IMAP SPICE kernels do not).
    public var instrument: String? {
        switch self {
        case .imap(let file): file.instrument?.rawValue
        case .swxsoc(let file): file.instrument.name
        }
    }

    /// The data level, when the name has one.
    public var level: String? {
        switch self {
        case .imap(let file): file.science?.dataLevel.rawValue
        case .swxsoc(let file): file.level
        }
    }

    /// The parsed fields as `sdc name parse --json` prints them.
    public var fieldsJSON: JSONValue {
        switch self {
        case .imap(let file): file.fieldsJSON
        case .swxsoc(let file): file.fieldsJSON
        }
    }

    public var description: String { name }
}
