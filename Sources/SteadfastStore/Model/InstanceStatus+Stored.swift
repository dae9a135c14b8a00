import SteadfastCore

extension InstanceStatus {
    /// The status a row stores; a value this build does not know is a clear error naming it.
    init(stored raw: String) throws(InstanceStoreError) {
        guard let status = InstanceStatus(rawValue: raw) else {
            throw InstanceStoreError(
                .corruptState,
                "Stored status '\(raw)' is not a known instance status; the row was written by a "
                    + "newer or foreign build. Upgrade Steadfast or repair the row."
            )
        }
        self = status
    }
}
