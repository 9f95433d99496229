import { isPostgresUrl, PgRunStore } from './pg-run-store.js';
import type { RunStore } from './run-store.js';
import { SqliteRunStore, type OpenMode } from './sqlite-run-store.js';

/** A run store opened from a --db value, with the place it names (password masked) for messages. */
export type OpenedRunStore = RunStore & { readonly path: string };

/** Options of openRunStore. */
export interface OpenRunStoreOptions {
  /** `create` makes the database when missing; `existing` requires one. */
  mode?: OpenMode;
  /** Flag named in error messages. */
  flag?: string;
  /** Told about lost connections and reconnects (PostgreSQL only). */
  onWarning?(message: string): void;
}

/** Opens the store a --db value names: `postgres://` / `postgresql://` URLs on PostgreSQL, anything else as an SQLite file. */
export async function openRunStore(db: string, options: OpenRunStoreOptions = {}): Promise<OpenedRunStore> {
  if (isPostgresUrl(db)) return PgRunStore.open(db, options);
  return SqliteRunStore.open(db, { mode: options.mode, flag: options.flag });
}
