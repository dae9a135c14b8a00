import Foundation
import SteadfastCore

/// The definitions a host runs, by name and version, and which of them receive each operation.
public struct DefinitionCatalog: Sendable {
    public private(set) var definitions: [WorkflowDefinition] = []

    public init(_ definitions: [WorkflowDefinition] = []) {
        for definition in definitions { add(definition) }
    }

    /// Reads every `*.json` definition in `directory`; custom activities come from `registry`.
    /// Throws one error listing every file's problems.
    public init(directory: String, registry: ActivityRegistry = ActivityRegistry()) throws(HostError) {
        let url = URL(fileURLWithPath: directory)
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "json" }.sorted { $0.path < $1.path }
        } catch {
            throw HostError(
                .definitionNotFound, "cannot read the definitions folder '\(directory)': \(error.localizedDescription)")
        }
        var problems: [String] = []
        for file in files {
            do {
                add(try WorkflowDefinition.load(file: file.path, registry: registry))
            } catch {
                problems.append(error.message)
            }
        }
        guard problems.isEmpty else { throw HostError(.invalidDefinition, problems.joined(separator: "\n")) }
        guard !definitions.isEmpty else {
            throw HostError(.definitionNotFound, "the folder '\(directory)' holds no workflow definitions (*.json)")
        }
    }

    public mutating func add(_ definition: WorkflowDefinition) {
        definitions.removeAll { $0.name == definition.name && $0.version == definition.version }
        definitions.append(definition)
    }

    /// The definition with this name and version.
    public func definition(name: String, version: String) -> WorkflowDefinition? {
        definitions.first { $0.name == name && $0.version == version }
    }

    /// The newest version of the definition with this name (versions compare numerically).
    public func latest(name: String) -> WorkflowDefinition? {
        definitions.filter { $0.name == name }
            .max { $0.version.compare($1.version, options: .numeric) == .orderedAscending }
    }

    /// The newest definitions whose receives take `operation`, with the key they correlate on.
    func routes(for operation: String) -> [(
        definition: WorkflowDefinition, correlateOn: String?, createsInstance: Bool
    )] {
        let newest = Set(definitions.compactMap { latest(name: $0.name) }.map(\.identity))
        return definitions.compactMap { definition in
            guard let correlateOn = definition.receiveOperations[operation] else { return nil }
            let creates = definition.creatingOperations.contains(operation) && newest.contains(definition.identity)
            return (definition, correlateOn, creates)
        }
    }
}

extension WorkflowDefinition {
    /// Reads a definition file; the error names the file and every problem.
    public static func load(file: String, registry: ActivityRegistry = ActivityRegistry()) throws(HostError)
        -> WorkflowDefinition
    {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw HostError(.definitionNotFound, "\(file): cannot read the file: check the path and its permissions")
        }
        do {
            return try WorkflowDefinition(json: data, registry: registry)
        } catch {
            throw HostError(.invalidDefinition, error.problems.map { "\(file): \($0)" }.joined(separator: "\n"))
        }
    }
}
