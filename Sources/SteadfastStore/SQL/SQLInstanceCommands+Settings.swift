import Foundation

extension SQLInstanceCommands {
    /// The store's completion action (recorded in the store; `deleteAll` unless changed).
    public func completionAction(on db: any SQLConnection) throws -> InstanceCompletionAction {
        try Self.completionAction(
            stored: db.queryFirst("SELECT value FROM store_settings WHERE name = 'completion_action'", [])?.text(0))
    }

    /// The action a stored setting names (none stored: `deleteAll`).
    static func completionAction(stored text: String?) throws -> InstanceCompletionAction {
        guard let text else { return .deleteAll }
        guard let action = InstanceCompletionAction(rawValue: text) else {
            throw InstanceStoreError(
                .corruptState,
                "The store's completion action is '\(text)', which this build does not know; set it again "
                    + "(deleteAll or deleteNothing).")
        }
        return action
    }

    /// Records the store's completion action; every process that opens the store uses it.
    public func setCompletionAction(_ action: InstanceCompletionAction, on db: any SQLConnection) throws {
        try db.execute(
            """
            INSERT INTO store_settings (name, value) VALUES ('completion_action', ?)
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """,
            [.text(action.rawValue)]
        )
    }
}
