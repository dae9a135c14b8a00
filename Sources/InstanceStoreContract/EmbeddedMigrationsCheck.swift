import Foundation
import SteadfastStore
import Testing

/// Checks that a store's embedded migrations are exactly the `.sql` files of
/// `Schemas/<folder>/` (regenerate them with `Schemas/embed.sh <folder>`), numbered 1, 2, ….
public func expectEmbeddedMigrationsMatchSchemaFiles(
    _ migrations: SchemaMigrations, folder: String, sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Schemas/\(folder)")
    let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".sql") }
        .sorted()
    let fix = "run Schemas/embed.sh \(folder)"
    #expect(files == migrations.migrations.map(\.name), "\(fix)", sourceLocation: sourceLocation)
    for migration in migrations.migrations {
        let text = try String(contentsOf: directory.appendingPathComponent(migration.name), encoding: .utf8)
        #expect(text == migration.sql + "\n", "\(migration.name) changed: \(fix)", sourceLocation: sourceLocation)
    }
    #expect(
        migrations.migrations.map(\.version) == Array(1...max(1, migrations.latestVersion)),
        sourceLocation: sourceLocation)
}
