import NurtureAuthoring

/// Settings the daemon reads once at start-up: the database (and its `postgresql:` pool), the transport and its SMTP connections, the
/// listening socket, the secrets (the erasure key's file included) and the health limits. A reload keeps their running values (so the catalog
/// always describes what runs) and names the ones that changed; everything else, `http.public_url` included,
/// applies at once.
enum RestartOnlySettings {
    /// `new` with the running values of the restart-only settings, and the names of those that differed.
    static func keep(_ old: NurtureConfig, in new: NurtureConfig) -> (NurtureConfig, [String]) {
        var config = new
        var changed: [String] = []
        if new.database != old.database { changed.append("database"); config.database = old.database }
        if new.postgres != old.postgres { changed.append("postgresql"); config.postgres = old.postgres }
        if new.dataDirectory != old.dataDirectory { config.dataDirectory = old.dataDirectory }
        if new.transport != old.transport { changed.append("transport"); config.transport = old.transport }
        if new.smtp != old.smtp { changed.append("smtp"); config.smtp = old.smtp }
        if new.http.listen != old.http.listen { changed.append("http.listen"); config.http.listen = old.http.listen }
        if new.secrets != old.secrets { changed.append("secrets"); config.secrets = old.secrets }
        if new.health != old.health { changed.append("health"); config.health = old.health }
        return (config, changed)
    }
}
