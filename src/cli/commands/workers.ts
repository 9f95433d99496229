import type { CommandModule } from 'yargs';
import { commonOptions, printJson } from '../options.js';
import { openExistingStore, parseRunId, requireRun, withStore } from '../store-access.js';
import { renderTable } from '../format.js';

interface WorkersArgs { db: string; json: boolean; runId: string; all: boolean }

/** A worker counts as live while its last heartbeat is younger than this many of its intervals (as the coordinator judges). */
const LIVE_BEATS = 3;

/** `greennas workers RUN_ID`: the live workers of a distributed run. */
export const workersCommand: CommandModule<object, WorkersArgs> = {
  command: 'workers <run-id>',
  describe: 'List the live workers of a distributed run: host, devices, current trials, last heartbeat',
  builder: (y) =>
    y.positional('run-id', { type: 'string', describe: 'Run id (see greennas runs)' }).options({
      all: { type: 'boolean', default: false, describe: 'Also list stopped and lost workers' },
      db: commonOptions.db, json: commonOptions.json,
    }) as never,
  handler: async (args) => {
    const runId = parseRunId(args.runId);
    await withStore(await openExistingStore(args.db), async (store) => {
      await requireRun(store, runId, args.db);
      const workers = (await store.listWorkers())
        .filter((w) => w.runId === runId || w.runId === null) // unpinned workers serve every running run
        .map((w) => ({ ...w, live: w.state === 'running' && w.heartbeatAgeS <= LIVE_BEATS * w.heartbeatS + 2 }))
        .filter((w) => args.all || w.live);
      if (args.json) {
        printJson(workers.map((w) => ({
          id: w.id, host: w.host, pid: w.pid, devices: w.devices, slots: w.slots, version: w.version, state: w.live ? 'live' : w.state === 'stopped' ? 'stopped' : 'lost',
          currentTrials: w.current.filter((j) => j.runId === runId).map((j) => j.seq), lastHeartbeat: w.heartbeatAt, heartbeatAgeS: Number(w.heartbeatAgeS.toFixed(1)),
          startedAt: w.startedAt, pinned: w.runId !== null,
        })));
        return;
      }
      if (workers.length === 0) {
        process.stderr.write(`no live workers for run ${runId}; start some with 'greennas worker --db ... --run ${runId}'\n`);
        return;
      }
      process.stdout.write(renderTable(
        ['worker', 'host', 'state', 'devices', 'slots', 'current trials', 'last heartbeat'],
        workers.map((w) => [w.id, w.host, w.live ? 'live' : w.state === 'stopped' ? 'stopped' : 'lost', w.devices.join('; '), String(w.slots),
          w.current.filter((j) => j.runId === runId).map((j) => String(j.seq)).join(',') || '-',
          `${w.heartbeatAt.replace('T', ' ').slice(0, 19)} (${w.heartbeatAgeS.toFixed(1)} s ago)`]),
      ));
    });
  },
};
