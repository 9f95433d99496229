import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(REPO, 'dist/src/cli/main.js');
const WRITER = fileURLToPath(new URL('../fixtures/energy/rapl-writer.mjs', import.meta.url));
const temps: string[] = [];
const kids: ChildProcess[] = [];

interface Run { code: number | null; stdout: string; stderr: string }

/** Collects a child's output and exit code. */
function collect(child: ReturnType<typeof spawn>): Promise<Run> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return collect(spawn(process.execPath, [CLI, ...args], { cwd: REPO, env }));
}

function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build first with 'npx tsc -p .' (npm test does)`);
});

afterEach(() => {
  for (const k of kids.splice(0)) if (k.exitCode === null) k.kill('SIGTERM');
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
});

const noNvidia = !existsSync('/dev/nvidiactl');

describe('greennas meter (built CLI)', () => {
  it('-- sleep 1 here: source estimated, duration within 5% of 1 s', async () => {
    // This 2-core box is shared, so process start-up can be slow: take the best of up to three runs
    // (every run must still be a valid estimated report).
    let best: { durationS: number } | undefined;
    for (let attempt = 0; attempt < 3 && !(best && Math.abs(best.durationS - 1) < 0.05); attempt++) {
      const r = await cli(['meter', '--json', '--', 'sleep', '1']);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout);
      if (noNvidia && !existsSync('/sys/class/powercap')) {
        expect(out.source).toBe('estimated');
        expect(out.meter).toBe('estimate');
      }
      expect(out.energyJ.total).toBeGreaterThan(0);
      expect(out.energyKwh).toBeCloseTo(out.energyJ.total / 3.6e6, 15);
      expect(out.carbon.carbonG).toBeCloseTo(out.energyKwh * out.carbon.intensityGPerKwh * out.carbon.pue, 15);
      expect(out.command).toEqual(['sleep', '1']);
      expect(out.exitCode).toBe(0);
      process.stderr.write(`[meter-cli] sleep 1 (attempt ${attempt + 1}): durationS=${out.durationS} energyJ=${out.energyJ.total} source=${out.source} profile=${out.profile.id} load=${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}\n`);
      if (!best || Math.abs(out.durationS - 1) < Math.abs(best.durationS - 1)) best = out;
    }
    expect(best!.durationS).toBeGreaterThan(0.95);
    expect(best!.durationS).toBeLessThan(1.05);
  });

  it('--meter rapl reads a counter that another process advances at a known rate across wraparounds', async () => {
    const root = tempDir('greennas-rapl-cli-');
    const zone = join(root, 'intel-rapl:0');
    mkdirSync(zone);
    const maxUj = 60_000_000; // 60 J range: the counter wraps every 1.2 s at 50 W
    const stepUj = 500_000; // 0.5 J per 10 ms tick = 50 W
    writeFileSync(join(zone, 'name'), 'package-0\n');
    writeFileSync(join(zone, 'max_energy_range_uj'), `${maxUj}\n`);
    const log = join(root, 'writer.log');
    const writer = spawn(process.execPath, [WRITER, root, String(maxUj - 10 * stepUj), String(stepUj), '10', log], { stdio: 'ignore' });
    kids.push(writer);
    for (let i = 0; i < 100 && !existsSync(join(zone, 'energy_uj')); i++) await new Promise((r) => setTimeout(r, 20));
    const r = await cli(['meter', '--json', '--meter', 'rapl', '--powercap-root', root, '--sample-interval-ms', '100', '--', 'sleep', '2']);
    writer.kill('SIGTERM');
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.source).toBe('counter');
    expect(out.meter).toBe('rapl');
    const counters = out.detail.counters['package-0'];
    // Which writer ticks produced the two readings the meter took at begin and end?
    const tickOf = new Map<number, number>();
    for (const line of readFileSync(log, 'utf8').trim().split('\n')) {
      const [tick, value] = line.split(' ').map(Number) as [number, number];
      tickOf.set(value, tick);
    }
    const startTick = tickOf.get(counters.startUj);
    const endTick = tickOf.get(counters.endUj);
    expect(startTick, 'begin reading was written by the writer').toBeDefined();
    expect(endTick, 'end reading was written by the writer').toBeDefined();
    const expectedJ = ((endTick! - startTick!) * stepUj) / 1e6;
    const expectedWraps = Math.floor((maxUj - 10 * stepUj + endTick! * stepUj) / (maxUj + 1)) - Math.floor((maxUj - 10 * stepUj + startTick! * stepUj) / (maxUj + 1));
    expect(expectedWraps).toBeGreaterThanOrEqual(1);
    expect(out.energyJ.total).toBe(expectedJ);
    expect(out.energyJ.byDomain['package-0']).toBe(expectedJ);
    expect(counters.wraps).toBe(expectedWraps);
    // The writer's timer may run late on a loaded box, so the rate is only bounded above tightly.
    const watts = out.energyJ.total / out.durationS;
    expect(watts).toBeLessThanOrEqual(52);
    expect(watts).toBeGreaterThan(20);
    process.stderr.write(`[meter-cli] rapl: ticks ${startTick}→${endTick}, expected ${expectedJ} J with ${expectedWraps} wraps, reported ${out.energyJ.total} J, ${counters.wraps} wraps, ${out.durationS.toFixed(3)} s, ${watts.toFixed(2)} W\n`);
  });

  it('forwards the command\'s exit status and keeps stdout for the JSON', async () => {
    const r = await cli(['meter', '--json', '--meter', 'estimate', '--', 'sh', '-c', 'echo from-child; exit 7']);
    expect(r.code).toBe(7);
    const out = JSON.parse(r.stdout);
    expect(out.exitCode).toBe(7);
    expect(r.stderr).toContain('from-child');
  });

  it('passes a SIGTERM on to the command and still reports what it used', async () => {
    const child = spawn(process.execPath, [CLI, 'meter', '--json', '--meter', 'estimate', '--', 'sleep', '30'], { cwd: REPO });
    kids.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    const started = new Promise<void>((resolve) => child.stderr.on('data', (d) => { stderr += d; if (/meter estimate:/.test(stderr)) resolve(); }));
    await started;
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    expect(code).toBe(143);
    const out = JSON.parse(stdout);
    expect(out).toMatchObject({ exitCode: 143, signal: 'SIGTERM', source: 'estimated' });
    expect(out.durationS).toBeLessThan(25);
  });

  it('prints a human report with provenance and carbon', async () => {
    const r = await cli(['meter', '--meter', 'estimate', '--profile', 'raspberry-pi-4', '--region', 'FR', '--pue', '1.2', '--', 'true']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/energy +[\d.]+ J ESTIMATED by meter estimate \(profile raspberry-pi-4, flag; not a measurement\)/);
    expect(r.stdout).toMatch(/carbon .*PUE 1.2 × 56 g\/kWh, FR 2023/);
  });
});

describe('greennas meter bad input: exit 2 with the fix, command not run', () => {
  const marker = () => join(tempDir('greennas-marker-'), 'ran');
  const expectUserError = (r: Run, pattern: RegExp) => {
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^greennas: error: /m);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).toMatch(/Fix: /);
    expect(r.stderr).not.toMatch(/    at /); // no stack trace
    expect(r.stdout).toBe('');
  };

  it.skipIf(!noNvidia)('--meter nvml on a machine without NVIDIA', async () => {
    const m = marker();
    const r = await cli(['meter', '--meter', 'nvml', '--', 'touch', m]);
    expectUserError(r, /--meter nvml is not available: no NVIDIA GPU found/);
    expect(existsSync(m)).toBe(false);
  });

  it('--meter rapl with a missing powercap tree', async () => {
    const r = await cli(['meter', '--meter', 'rapl', '--powercap-root', '/nonexistent/powercap', '--', 'true']);
    expectUserError(r, /--meter rapl is not available: \/nonexistent\/powercap does not exist/);
  });

  it('--meter rapl with an unreadable energy_uj', async () => {
    const root = tempDir('greennas-unreadable-');
    const zone = join(root, 'intel-rapl:0');
    mkdirSync(zone);
    writeFileSync(join(zone, 'name'), 'package-0\n');
    writeFileSync(join(zone, 'max_energy_range_uj'), '262143328850\n');
    // Root ignores file modes, so make the counter unreadable in a way root cannot read either.
    mkdirSync(join(zone, 'energy_uj'));
    const r = await cli(['meter', '--meter', 'rapl', '--powercap-root', root, '--', 'true']);
    expectUserError(r, /cannot read .*intel-rapl:0\/energy_uj: EISDIR/);
  });

  // Root ignores file modes; as root, run the CLI as `nobody` (when su exists) so EACCES really happens.
  const asRoot = process.getuid?.() === 0;
  const canDrop = asRoot && existsSync('/usr/bin/su') && /^nobody:/m.test(readFileSync('/etc/passwd', 'utf8'));
  it.skipIf(asRoot && !canDrop)('--meter rapl with a root-only energy_uj (EACCES) names chmod and --meter estimate', async () => {
    const root = tempDir('greennas-eacces-');
    chmodSync(root, 0o755);
    const zone = join(root, 'intel-rapl:0');
    mkdirSync(zone, { mode: 0o755 });
    writeFileSync(join(zone, 'name'), 'package-0\n', { mode: 0o644 });
    writeFileSync(join(zone, 'max_energy_range_uj'), '262143328850\n', { mode: 0o644 });
    writeFileSync(join(zone, 'energy_uj'), '1\n');
    chmodSync(join(zone, 'energy_uj'), 0o400); // what Linux 5.10+ does
    const args = ['meter', '--meter', 'rapl', '--powercap-root', root, '--', 'true'];
    const r = canDrop
      ? await collect(spawn('/usr/bin/su', ['nobody', '-s', '/bin/sh', '-c', [process.execPath, CLI, ...args].map((a) => `'${a}'`).join(' ')], { cwd: '/' }))
      : await cli(args);
    expectUserError(r, /permission denied.*chmod a\+r.*--meter estimate/);
  });

  it('an unknown --profile', async () => {
    const m = marker();
    const r = await cli(['meter', '--profile', 'tpu-v9', '--', 'touch', m]);
    expectUserError(r, /--profile 'tpu-v9' is not a known hardware profile. Fix: pass one of .*raspberry-pi-4/);
    expect(existsSync(m)).toBe(false);
  });

  it('an unknown --region, a bad --pue, a bad --meter, no command, a missing command', async () => {
    const m = marker();
    expectUserError(await cli(['meter', '--region', 'ATLANTIS', '--', 'touch', m]), /--region 'ATLANTIS' is not in the carbon intensity table/);
    expect(existsSync(m)).toBe(false);
    expectUserError(await cli(['meter', '--pue', '0.5', '--', 'true']), /--pue must be a number from 1 to 5/);
    expectUserError(await cli(['meter', '--meter', 'joulescope', '--', 'true']), /--meter 'joulescope' is not a meter/);
    expectUserError(await cli(['meter']), /no command to measure/);
    expectUserError(await cli(['meter', '--meter', 'none', '--', 'no-such-program-xyz']), /command 'no-such-program-xyz' was not found/);
  });
});

describe('greennas profiles', () => {
  it('--json lists every shipped profile and this machine\'s default', async () => {
    const r = await cli(['profiles', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.profiles).toHaveLength(8);
    expect(out.profiles.map((p: { id: string }) => p.id)).toContain('nvidia-h200-sxm');
    expect(typeof out.default.id).toBe('string');
  });

  it('a broken profile folder is exit 2 naming the file and field', async () => {
    const dir = tempDir('greennas-badprofiles-');
    writeFileSync(join(dir, 'x.json'), JSON.stringify({ id: 'x', name: 'X', kind: 'cpu' }));
    const r = await cli(['profiles', '--profiles-dir', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hardware profile .*x.json: field 'idleW' must be an object/);
  });
});
