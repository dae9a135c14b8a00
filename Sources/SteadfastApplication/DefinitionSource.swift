import Foundation
import SteadfastCore
import SteadfastHost

/// Where a host's definitions come from: files and folders of JSON definitions.
public struct DefinitionSource: Sendable {
    /// The catalog of every definition that loaded.
    public var catalog: DefinitionCatalog
    /// One line per file that did not load (its path and every problem); those files are left
    /// out, the others are hosted.
    public var problems: [String]

    /// The paths used when none are given: `$STEADFAST_DEFINITIONS` (paths separated by `:`),
    /// else the `Samples` folder.
    public static var defaultPaths: [String] {
        let fromEnvironment = ProcessInfo.processInfo.environment["STEADFAST_DEFINITIONS"] ?? ""
        let paths = fromEnvironment.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        return paths.isEmpty ? ["Samples"] : paths
    }

    /// Reads every definition file named, and every `*.json` file in every folder named. A broken
    /// file is reported in `problems` without blocking the others. Two files with the same name
    /// and version but different content are an error naming both, since one would win at random
    /// and the other's instances could never run; so is a set of paths with no definition at all.
    public init(paths: [String], registry: ActivityRegistry = ActivityRegistry()) throws(ApplicationError) {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ApplicationError(
                    .definitionNotFound,
                    "'\(path)' does not exist; pass definition files or folders with --definitions, or set "
                        + "STEADFAST_DEFINITIONS")
            }
            if isDirectory.boolValue {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
                files += names.filter { $0.hasSuffix(".json") }.sorted().map {
                    (path as NSString).appendingPathComponent($0)
                }
            } else {
                files.append(path)
            }
        }
        var loaded: [(definition: WorkflowDefinition, file: String)] = []
        var problems: [String] = []
        for file in files {
            let definition: WorkflowDefinition
            do {
                definition = try WorkflowDefinition.load(file: file, registry: registry)
            } catch {
                problems.append(error.message)
                continue
            }
            if let other = loaded.first(where: {
                $0.definition.name == definition.name && $0.definition.version == definition.version
            }) {
                guard other.definition.identity == definition.identity else {
                    throw ApplicationError(
                        .invalidDefinition,
                        "\(other.file) and \(file) both define '\(definition.name)' version '\(definition.version)' "
                            + "with different content; give one of them a new version (or remove it)")
                }
                continue
            }
            loaded.append((definition, file))
        }
        guard !loaded.isEmpty else {
            let detail = problems.isEmpty ? "" : ":\n" + problems.joined(separator: "\n")
            throw ApplicationError(
                .definitionNotFound, "no workflow definition loaded from \(paths.joined(separator: ", "))\(detail)")
        }
        self.catalog = DefinitionCatalog(loaded.map(\.definition))
        self.problems = problems
    }
}
