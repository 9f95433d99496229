/** The run store: contract, SQLite implementation, numbered migrations. */
export * from './run-store.js';
export * from './sqlite-run-store.js';
export { migrations, type Migration } from './migrations.js';
