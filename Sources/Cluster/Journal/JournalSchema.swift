import Foundation
import GRDB

/// The journal's SQLite schema, its migrations, and opening a file as a journal.
enum JournalSchema {
    /// The value of `journal_meta.format` that marks a prunebench journal.
    static let format = "prunebench-journal"
    /// The schema version this build writes (`journal_meta.schema_version`).
    static let version = 1

    /// One migration per schema version; each also records its version in `journal_meta`.
    static let migrator: DatabaseMigrator = {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE journal_meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                INSERT INTO journal_meta (key, value) VALUES ('format', '\(format)');
                INSERT INTO journal_meta (key, value) VALUES ('schema_version', '1');
                CREATE TABLE sweeps (id TEXT PRIMARY KEY NOT NULL, name TEXT NOT NULL);
                CREATE TABLE experiments (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    base TEXT,
                    spec BLOB NOT NULL,
                    cost REAL NOT NULL,
                    state TEXT NOT NULL CHECK (state IN
                        ('pending', 'assigned', 'running', 'succeeded', 'failed', 'cancelled')),
                    attempt INTEGER NOT NULL DEFAULT 0,
                    worker TEXT,
                    counted_failures INTEGER NOT NULL DEFAULT 0,
                    infra_failures INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE sweep_experiments (
                    sweep TEXT NOT NULL REFERENCES sweeps(id),
                    experiment TEXT NOT NULL REFERENCES experiments(id),
                    PRIMARY KEY (sweep, experiment));
                CREATE TABLE attempts (
                    experiment TEXT NOT NULL REFERENCES experiments(id),
                    attempt INTEGER NOT NULL,
                    worker TEXT NOT NULL,
                    outcome TEXT,
                    failure_class TEXT,
                    message TEXT,
                    assigned_at REAL NOT NULL,
                    ended_at REAL,
                    PRIMARY KEY (experiment, attempt));
                CREATE TABLE results (
                    experiment TEXT PRIMARY KEY NOT NULL REFERENCES experiments(id),
                    attempt INTEGER NOT NULL,
                    digest TEXT NOT NULL,
                    body BLOB NOT NULL,
                    recorded_at REAL NOT NULL);
                CREATE TABLE duplicate_results (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    experiment TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    digest TEXT NOT NULL,
                    body BLOB,
                    reason TEXT NOT NULL,
                    source TEXT,
                    recorded_at REAL NOT NULL);
                CREATE INDEX duplicate_results_experiment ON duplicate_results (experiment, attempt, digest);
                CREATE TABLE draining_workers (worker TEXT PRIMARY KEY NOT NULL);
                """)
        }
        return migrator
    }()

    /// Opens `path` as a journal: WAL mode, `synchronous = FULL` (GRDB writes in IMMEDIATE transactions).
    ///
    /// A missing or empty file is created when `create` is true. An existing file must carry a
    /// `journal_meta` table with this format and a schema version this build knows.
    static func open(_ path: String, create: Bool) throws -> DatabaseQueue {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        if attributes?[.type] as? FileAttributeType == .typeDirectory {
            throw JournalError(.notAJournal, file: path, "is a directory, expected a prunebench journal")
        }
        let isNew = ((attributes?[.size] as? NSNumber)?.intValue ?? 0) == 0
        if isNew && !create {
            let what = attributes == nil ? "does not exist" : "is empty"
            throw JournalError(attributes == nil ? .badPath : .notAJournal, file: path,
                               "\(what), expected a prunebench journal")
        }
        var config = Configuration()
        config.prepareDatabase { db in
            let mode = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
            guard mode?.lowercased() == "wal" else {
                throw JournalError(.notAJournal, file: path, "cannot enable WAL mode (got \(mode ?? "nothing"))")
            }
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            let queue = try DatabaseQueue(path: path, configuration: config)
            if !isNew { try validate(queue, path: path, allowUpgrade: create) }
            if create { try migrator.migrate(queue) }
            return queue
        } catch let error as DatabaseError {
            if isNew && attributes == nil {
                throw JournalError(.badPath, file: path, "cannot create a journal (\(error.message ?? "\(error)"))")
            }
            throw JournalError(.notAJournal, file: path,
                               "not a prunebench journal (unreadable SQLite database: \(error.message ?? "\(error)"))")
        }
    }

    /// Checks the format marker and schema version of an existing file.
    private static func validate(_ queue: DatabaseQueue, path: String, allowUpgrade: Bool) throws {
        try queue.read { db in
            guard try db.tableExists("journal_meta") else {
                throw JournalError(.notAJournal, file: path, "not a prunebench journal (no journal_meta table)")
            }
            let meta = try Dictionary(
                Row.fetchAll(db, sql: "SELECT key, value FROM journal_meta").map { ($0["key"] as String, $0["value"] as String) },
                uniquingKeysWith: { first, _ in first })
            guard meta["format"] == format else {
                throw JournalError(.notAJournal, file: path,
                                   "not a prunebench journal (journal_meta.format is \(meta["format"] ?? "missing"))")
            }
            guard let found = meta["schema_version"].flatMap(Int.init) else {
                throw JournalError(.notAJournal, file: path, "not a prunebench journal (no schema_version)")
            }
            if found > version {
                throw JournalError(.unsupportedVersion, file: path,
                                   "journal schema version \(found) is newer than this build's \(version)")
            }
            if found < version && !allowUpgrade {
                throw JournalError(.unsupportedVersion, file: path,
                                   "journal schema version \(found) is older than \(version); open it with the coordinator to upgrade")
            }
        }
    }
}

extension Database {
    /// Executes `sql` through a statement compiled once per connection: the journal runs the same
    /// few statements for every experiment, and compiling them was most of a transition's cost.
    func execute(cached sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}

extension Row {
    /// ``Database/execute(cached:arguments:)`` for a query of rows.
    static func fetchOne(_ db: Database, cached sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func fetchAll(_ db: Database, cached sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }
}

extension DatabaseValueConvertible where Self: StatementColumnConvertible {
    /// ``Database/execute(cached:arguments:)`` for a query of one value.
    static func fetchOne(_ db: Database, cached sql: String, arguments: StatementArguments = StatementArguments()) throws -> Self? {
        try fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    static func fetchAll(_ db: Database, cached sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Self] {
        try fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }
}
