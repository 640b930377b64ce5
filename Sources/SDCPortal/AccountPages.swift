import SDCCatalog

enum SignInPage {
    static func body(error: String?) -> HTML {
        let message: HTML = error.map { "<p class=\"error\" id=\"sign-in-error\">\($0)</p>" } ?? ""
        return """
            \(message)
            <p>Sign in with an API key to see unreleased data. The key is checked on every page and never stored in your browser.</p>
            <form method="post" action="/portal/sign-in" id="sign-in-form">
            <label>API key <input type="password" name="api_key" id="api_key" autocomplete="off" required size="50"></label>
            <button type="submit" id="sign-in-button">Sign in</button>
            </form>
            """
    }
}

enum KeysPage {
    static func body(_ keys: [APIKeyInfo], created: (secret: String, info: APIKeyInfo)?) -> HTML {
        let notice: HTML = created.map { created in
            """
            <p id="new-key">New key <strong>\(created.info.name)</strong> (\(created.info.scope.rawValue)): \
            <code id="new-key-secret">\(created.secret)</code>. Copy it now: it is not shown again.</p>
            """
        } ?? ""
        let rows = keys.map { key -> HTML in
            let action: HTML = key.isRevoked ? "revoked \(key.revokedAt?.compact ?? "")" : """
                <form method="post" action="/portal/keys/revoke" class="inline"><input type="hidden" name="id" value="\(key.id)">\
                <button type="submit" class="revoke">Revoke</button></form>
                """
            return "<tr><td class=\"num\">\(key.id)</td><td>\(key.name)</td><td>\(key.scope.rawValue)</td><td><code>\(key.prefix)…</code></td><td>\(key.createdAt.compact)</td><td>\(action)</td></tr>"
        }
        let scopes = APIKeyScope.allCases.map { scope -> HTML in "<option value=\"\(scope.rawValue)\">\(scope.rawValue)</option>" }
        return """
            \(notice)
            <table id="keys"><thead><tr><th>Id</th><th>Name</th><th>Scope</th><th>Prefix</th><th>Created</th><th></th></tr></thead>
            <tbody>\(rows)</tbody></table>
            <h2>Create a key</h2>
            <form method="post" action="/portal/keys" id="create-key-form">
            <label>Name <input name="name" id="key-name" required maxlength="100"></label>
            <label>Scope <select name="scope" id="key-scope">\(scopes)</select></label>
            <button type="submit" id="create-key-button">Create</button>
            </form>
            """
    }
}
