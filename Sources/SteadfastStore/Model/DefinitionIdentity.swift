/// The identity of the workflow definition an instance runs: name and version.
/// An instance saved under one version is never silently resumed under another.
public struct DefinitionIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    public var name: String
    public var version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }

    public var description: String { "\(name)@\(version)" }
}
