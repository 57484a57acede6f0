import NurtureCore
import NurtureEngine

extension PreparedLeads {
    /// What every store derives from leads without the database: address keys, their keyed erasure hashes, and
    /// the custom fields as the JSON both dialects store.
    static func derive(_ leads: [Lead], erasedKey: (String) -> String) -> PreparedLeads {
        let keys = leads.map(\.email.key)
        return PreparedLeads(leads: leads, keys: keys, erasedKeys: keys.map(erasedKey), fields: leads.map { JSONText.object($0.fields) })
    }
}
