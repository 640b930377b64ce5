import SDCCatalog

/// Who is looking at a portal page.
struct Visitor: Sendable {
    /// The signed-in key, if any.
    let key: APIKeyInfo?

    static let anonymous = Visitor(key: nil)

    /// Signed-in visitors see unreleased files, as API callers with a key do.
    var seesUnreleased: Bool { key != nil }
    var isAdmin: Bool { key?.scope == .admin }
}

/// The frame every portal page shares: head, navigation, sign-in state.
enum Layout {
    static func page(title: String, visitor: Visitor, body: HTML) -> String {
        let account: HTML = if let key = visitor.key {
            """
            <span class="who">Signed in as \(key.name) (\(key.scope.rawValue))</span>
            <form method="post" action="/portal/sign-out" class="inline"><button type="submit" id="sign-out">Sign out</button></form>
            """
        } else {
            #"<a href="/portal/sign-in" id="sign-in-link">Sign in</a>"#
        }
        let keysLink: HTML = visitor.isAdmin ? #"<a href="/portal/keys">API keys</a>"# : ""
        let page: HTML = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · sdc</title>
            <style>\(HTML(trusted: stylesheet))</style>
            </head>
            <body>
            <header><nav><a href="/portal" class="brand">sdc</a> <a href="/portal">Search</a> <a href="/portal/dashboard">Dashboard</a> <a href="/portal/algorithms">Algorithms</a> \(keysLink)</nav>
            <div class="account">\(account)</div></header>
            <main>
            <h1>\(title)</h1>
            \(body)
            </main>
            </body>
            </html>
            """
        return page.rendered
    }

    static let stylesheet = """
        body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafbfc}
        header{display:flex;justify-content:space-between;align-items:center;padding:.5rem 1rem;background:#0b3d91;color:#fff}
        header a{color:#fff;margin-right:1rem;text-decoration:none}.brand{font-weight:700}
        main{padding:1rem 2rem}table{border-collapse:collapse;margin:.5rem 0}
        th,td{border-bottom:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;font-size:.9rem}
        th a{color:inherit}td.num{text-align:right;font-variant-numeric:tabular-nums}
        form.search{display:grid;grid-template-columns:repeat(4,minmax(10rem,1fr));gap:.5rem 1rem;max-width:60rem}
        form.search label{display:flex;flex-direction:column;font-size:.85rem}
        .inline{display:inline}.who{margin-right:.5rem}.error{color:#b00020}.muted{color:#57606a}
        pre.log{background:#161b22;color:#e6edf3;padding:.75rem;max-height:20rem;overflow:auto;font-size:.8rem}
        figure{margin:1rem 0}svg.plot{background:#fff;border:1px solid #d0d7de}
        .pager a,.pager span{margin-right:1rem}.status-failed{color:#b00020;font-weight:600}
        """
}

/// Formatting shared by the pages.
enum Format {
    /// Bytes with a binary unit: `1.5 MiB`.
    static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : "\((value * 10).rounded() / 10) \(units[unit])"
    }
}
