import SDCCatalog

/// Who is looking at a portal page.
struct Visitor: Sendable {
    /// The signed-in key, if any.
    let key: APIKeyInfo?
    /// The mission switcher, when missions are hosted beside IMAP; nil on an IMAP-only data center.
    var missions: MissionChoice? = nil

    static let anonymous = Visitor(key: nil)

    /// Signed-in visitors see unreleased IMAP files, as API callers with a key do; a key limited to other missions
    /// sees IMAP as anonymous visitors do (the API refuses it IMAP's routes).
    var seesUnreleased: Bool { key.map { missions == nil || $0.allows(mission: "imap") } ?? false }
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
        // Search and the dashboard show the chosen mission: their links carry the choice.
        let searchLink = visitor.missions?.link("/portal") ?? "/portal"
        let dashboardLink = visitor.missions?.link("/portal/dashboard") ?? "/portal/dashboard"
        let page: HTML = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · sdc</title>
            <style>\(HTML(trusted: stylesheet))\(HTML(trusted: visitor.missions == nil ? "" : MissionChoice.stylesheet))</style>
            </head>
            <body>
            <a href="#main" class="skip-link">Skip to content</a>
            <header><nav aria-label="Portal"><a href="/portal" class="brand">sdc</a> <a href="\(searchLink)">Search</a> <a href="/portal/browse">Browse</a> \
            <a href="/portal/coverage">Coverage</a> <a href="\(dashboardLink)">Dashboard</a> <a href="/portal/algorithms">Algorithms</a> \(keysLink)</nav>
            \(visitor.missions.map(MissionChoice.switcher) ?? "")<div class="account">\(account)</div></header>
            <main id="main" tabindex="-1">
            <h1>\(title)</h1>
            \(body)
            </main>
            </body>
            </html>
            """
        return page.rendered
    }

    static let stylesheet = """
        body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#fafbfc;line-height:1.4}
        a{color:#0a4fb5}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible,[tabindex]:focus-visible{outline:3px solid #e36209;outline-offset:2px}
        .skip-link{position:absolute;left:-999px;top:0;background:#fff;color:#0b3d91;padding:.5rem;z-index:10}.skip-link:focus{left:.5rem}
        header{display:flex;flex-wrap:wrap;justify-content:space-between;align-items:center;gap:.25rem;padding:.5rem 1rem;background:#0b3d91;color:#fff}
        header a{color:#fff;margin-right:1rem;text-decoration:none}header a:hover{text-decoration:underline}.brand{font-weight:700}
        header button{font:inherit}
        main{padding:1rem 2rem;max-width:80rem}table{border-collapse:collapse;margin:.5rem 0}
        th,td{border-bottom:1px solid #d0d7de;padding:.25rem .6rem;text-align:left;font-size:.9rem}
        th a{color:inherit}td.num{text-align:right;font-variant-numeric:tabular-nums}
        form.search{display:grid;grid-template-columns:repeat(auto-fill,minmax(12rem,1fr));gap:.5rem 1rem;max-width:60rem}
        form.search label{display:flex;flex-direction:column;font-size:.85rem}
        .inline{display:inline}.who{margin-right:.5rem}.error{color:#b00020}.muted{color:#57606a}
        pre.log{background:#161b22;color:#e6edf3;padding:.75rem;max-height:20rem;overflow:auto;font-size:.8rem;white-space:pre-wrap}
        figure{margin:1rem 0;max-width:100%}svg.plot{background:#fff;border:1px solid #d0d7de;max-width:100%;height:auto}
        .pager a,.pager span{margin-right:1rem}.status-failed{color:#b00020;font-weight:600}
        ul.inline-list{display:inline;list-style:none;padding:0;margin:0}ul.inline-list li{display:inline}
        ul.inline-list li+li::before{content:" · ";color:#57606a}
        .scroll{overflow-x:auto;max-width:100%}
        .visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
        section.group,details.group[open]{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,36rem),1fr));gap:0 1rem}
        .group>h2,.group>summary,.group>ul,.group>p{grid-column:1/-1}.group figure{margin:.5rem 0}
        details.group>summary{cursor:pointer}details.group>summary h2{display:inline;font-size:1.25rem}
        ul.constants{list-style:none;padding:0;columns:2 22rem}ul.constants li{padding:.1rem 0;break-inside:avoid}
        .quicklook-controls fieldset{border:1px solid #d0d7de;margin:.5rem 0}.quicklook-controls label.pick{display:inline-block;margin-right:1rem}
        .range{margin:.5rem 0}.compare-form{margin:.5rem 0}
        .subnav{margin:.25rem 0 .75rem}.subnav a{margin-right:.75rem}.subnav a.current{font-weight:700;color:#1b1f24}
        .tiles{display:flex;flex-wrap:wrap;gap:.5rem 1.5rem}.tile{margin:.25rem 0}.tile strong{font-size:1.3rem;margin:0 .25rem}
        .charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,34rem),1fr));gap:1rem}
        figure.chart{background:#fff;border:1px solid #d0d7de;padding:.5rem;margin:0}figure.chart figcaption{font-weight:600;font-size:.95rem}
        svg.chart-svg{width:100%;height:auto}ul.legend{list-style:none;padding:0;margin:.25rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1rem;font-size:.85rem}
        .swatch{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle;border:1px solid #1b1f24}
        details.chart-data summary{font-size:.85rem;cursor:pointer}
        table.coverage{border-collapse:separate;border-spacing:1px}table.coverage th,table.coverage td{border:0;padding:0}
        table.coverage th[scope=row]{padding-right:.5rem}.day-head{font-size:.65rem;font-weight:400;color:#57606a;min-width:1rem;text-align:center}
        td.day{width:1rem;min-width:1rem;height:1.4rem;text-align:center;font-size:.7rem;font-weight:700}
        td.day a{display:block;height:100%;color:#1b1f24;text-decoration:none;line-height:1.4rem}
        td.present{background:#0072B2}td.reprocessed{background:#E69F00}td.gap{background:repeating-linear-gradient(45deg,#fbe3e4 0 3px,#fff 3px 6px);color:#b00020;outline:1px solid #b00020}
        td.none{background:#eaeef2}.key{display:inline-block;min-width:1rem;text-align:center;font-size:.7rem;font-weight:700;margin-left:.5rem}
        .key.present{background:#0072B2;height:.9rem}.key.reprocessed{background:#E69F00}.key.gap{background:#fbe3e4;color:#b00020;outline:1px solid #b00020}
        ul.tree{line-height:1.6}.breadcrumbs{margin-bottom:.5rem}
        @media (max-width:40rem){main{padding:.75rem;overflow-wrap:anywhere}header{padding:.5rem}header a{margin-right:.6rem}h1{font-size:1.3rem;overflow-wrap:anywhere}
          table#results,table#metadata,table.jobs,table#instruments{display:block;overflow-x:auto;max-width:100%}td,th{overflow-wrap:anywhere}}
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
