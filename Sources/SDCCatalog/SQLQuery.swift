import GRDB

/// A value bound to a placeholder, in a form every SQL backend of the catalog can bind.
package enum SQLValue: Sendable, Hashable {
    case text(String)
    case integer(Int64)
    case boolean(Bool)
    case null

    /// The text, or NULL.
    package init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }
    /// The number, or NULL.
    package init(_ value: Int?) { self = value.map { .integer(Int64($0)) } ?? .null }
    /// The number, or NULL.
    package init(_ value: Int64?) { self = value.map(SQLValue.integer) ?? .null }
    /// The flag, or NULL.
    package init(_ value: Bool?) { self = value.map(SQLValue.boolean) ?? .null }
}

/// SQL text with `?` placeholders and the values bound to them, in order. The text is written in the SQL that SQLite
/// and PostgreSQL share; ``numberedSQL`` renumbers the placeholders for PostgreSQL.
package struct SQLQuery: Sendable, Hashable {
    /// The text, with one `?` per value (no `?` appears anywhere else: names and literals never contain one).
    package var sql: String
    package var values: [SQLValue]

    package init(_ sql: String, _ values: [SQLValue] = []) {
        self.sql = sql
        self.values = values
    }

    /// The text with PostgreSQL's placeholders: the n-th `?` becomes `$n`.
    package var numberedSQL: String {
        var text = ""
        var number = 0
        for character in sql {
            if character == "?" {
                number += 1
                text += "$\(number)"
            } else {
                text.append(character)
            }
        }
        return text
    }

    /// The values as GRDB arguments (SQLite).
    var statementArguments: StatementArguments {
        StatementArguments(values.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .text(let text): text
            case .integer(let number): number
            case .boolean(let flag): flag
            case .null: nil
            }
        })
    }
}
