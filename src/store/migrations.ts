/** One numbered schema change. Applied in order, each in its own transaction, never edited once shipped. */
export interface Migration {
  /** Sequential version number, from 1. */
  version: number;
  /** Short description. */
  name: string;
  /** SQL statements (SQLite dialect). */
  sql: string;
}

/** The schema's history. Add a change by appending a migration; never rewrite an old one. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'runs, trials, metrics, front',
    sql: `
      CREATE TABLE runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'failed', 'interrupted')),
        reason TEXT,
        space TEXT NOT NULL,
        space_version TEXT NOT NULL,
        dataset TEXT NOT NULL,
        strategy TEXT NOT NULL,
        seed INTEGER NOT NULL,
        budget INTEGER NOT NULL,
        objectives TEXT NOT NULL,
        settings TEXT NOT NULL,
        versions TEXT NOT NULL,
        backend TEXT NOT NULL,
        host TEXT NOT NULL
      );
      CREATE TABLE trials (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        seq INTEGER NOT NULL,
        tell_seq INTEGER,
        arch_key TEXT NOT NULL,
        arch TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('running', 'complete', 'failed')),
        error TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_ms REAL,
        backend TEXT,
        worker TEXT,
        UNIQUE (run_id, seq),
        UNIQUE (run_id, arch_key)
      );
      CREATE TABLE metrics (
        trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        value REAL NOT NULL,
        unit TEXT NOT NULL,
        source TEXT NOT NULL,
        detail TEXT,
        PRIMARY KEY (trial_id, name)
      );
      CREATE TABLE front (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
        PRIMARY KEY (run_id, trial_id)
      );
    `,
  },
];
