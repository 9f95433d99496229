/** The run store: contract, SQLite and PostgreSQL implementations, numbered migrations, the --db opener. */
export * from './run-store.js';
export * from './sqlite-run-store.js';
export * from './pg-run-store.js';
export * from './open-run-store.js';
export { migrations, type Migration } from './migrations.js';
