import ArgumentParser
import Foundation
import PrivateSQL

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load data into a database that private queries read.",
        subcommands: [ImportCSV.self]
    )
}

struct ImportCSV: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "csv",
        abstract: "Load a CSV file into a SQLite or PostgreSQL table (one transaction: nothing is written if a row is malformed).",
        discussion: HelpText.reflow("""
        The first line is the header. With --metadata, exactly the table's declared columns are imported, \
        with their declared types (other CSV columns are listed as ignored); without it, each column's \
        type is inferred: integer, else real, else text. Empty fields are NULL.

        Example:
          veil import csv panel.csv --db panel.sqlite --table visits --metadata privacy.yaml --rename id=person_id
          veil import csv panel.csv --db postgres://veil@db.example:5432/panel --table visits --metadata privacy.yaml
        """)
    )

    @Argument(help: "The CSV file.")
    var file: String

    @Option(help: "The SQLite database file (created if missing), or a postgres://USER@HOST:PORT/DATABASE URL (loaded with COPY).")
    var db: String

    @Option(help: "The table to create.")
    var table: String

    @Option(help: "Privacy metadata (YAML) declaring the table's columns and types.")
    var metadata: String?

    @Option(help: ArgumentHelp("Rename a CSV column before import (repeatable).", valueName: "old=new"))
    var rename: [String] = []

    @Option(help: ArgumentHelp("Leave out a CSV column, by its header name (repeatable).", valueName: "column"))
    var skip: [String] = []

    @Option(help: ArgumentHelp("Also read this field text as NULL, e.g. NA (repeatable).", valueName: "text"))
    var null: [String] = []

    @Flag(help: "Replace the table if it exists.")
    var replace = false

    func validate() throws {
        for pair in rename where !pair.contains("=") {
            throw ValidationError("--rename takes old=new, got '\(pair)'")
        }
    }

    func run() throws {
        var renames: [String: String] = [:]
        for pair in rename {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            renames[String(parts[0])] = String(parts[1])
        }
        var tableMetadata: TableMetadata?
        if let metadata {
            let loaded = try PrivacyMetadata.load(contentsOf: URL(fileURLWithPath: metadata))
            guard let declared = loaded.table(named: table) else {
                throw ValidationError("\(metadata) declares no table \(table) (tables: "
                                      + loaded.tables.map(\.name).joined(separator: ", ") + ")")
            }
            tableMetadata = declared
        }
        let options = CSVImportOptions(table: table, metadata: tableMetadata, renames: renames,
                                       skippedColumns: Set(skip), nullTokens: Set(null), replaceExisting: replace)
        let summary = try CSVImporter.importCSV(at: URL(fileURLWithPath: file), into: db, options: options)
        print("imported \(summary.rows) rows into \(table) in \(summary.destination): "
              + summary.columns.map { "\($0.name) \($0.type.rawValue)" }.joined(separator: ", "))
        if !summary.ignoredColumns.isEmpty {
            print("ignored CSV columns: " + summary.ignoredColumns.map { $0.isEmpty ? "''" : $0 }.joined(separator: ", "))
        }
    }
}
