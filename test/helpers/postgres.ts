import pg from 'pg';
import { randomBytes } from 'node:crypto';

/** URL of the PostgreSQL server tests may use (CI starts one with .ci/postgres.sh); undefined skips the PostgreSQL tests. */
export const testPgUrl: string | undefined = process.env.GREENNAS_TEST_PG_URL || undefined;

/** Creates an empty database on the test server and returns its URL and a function that drops it. */
export async function freshPgDatabase(prefix = 'gn'): Promise<{ url: string; drop(): Promise<void> }> {
  if (!testPgUrl) throw new Error('GREENNAS_TEST_PG_URL is not set');
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testPgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(testPgUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: testPgUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
