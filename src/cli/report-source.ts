import { resolveCarbonSettings, resolveEnergySetup, type EnergyFlags } from '../energy/index.js';
import { buildRunReport, type CarbonBasis, type RunReport } from '../report/index.js';
import type { RunStore, TrialRecord } from '../store/index.js';
import { requireRun } from './store-access.js';
import { resolveSpace } from './search-setup.js';

/** Carbon conversion of a run: its stored energy flags (region, --carbon-intensity, --pue, profile), as its trials were metered. */
export async function carbonBasisOf(settings: Record<string, unknown>): Promise<CarbonBasis> {
  const energy = (settings['proxy'] as { energy?: EnergyFlags } | undefined)?.energy;
  const carbon = energy ? (await resolveEnergySetup({ ...energy, meter: 'none' })).carbon : resolveCarbonSettings({});
  const year = carbon.intensityYear && !carbon.intensitySource.includes(String(carbon.intensityYear)) ? ` ${carbon.intensityYear}` : '';
  const where = carbon.region ? `${carbon.region}, ${carbon.intensitySource}${year}` : carbon.intensitySource;
  return { intensityGPerKwh: carbon.intensityGPerKwh, pue: carbon.pue, source: where };
}

/** Labels trials: the run's space labels search and compressed trials (with their steps), the baseline space its own. */
async function labeller(space: string): Promise<(t: TrialRecord) => string> {
  let spaceLabel: ((arch: unknown) => string) | undefined;
  try {
    const s = await resolveSpace(space);
    if (s.label) spaceLabel = (a) => (s.label as (x: unknown) => string)(a);
  } catch {
    // A plug-in that moved away still gets a report, with JSON labels.
  }
  const { labelBaseline } = await import('../baselines/baseline-space.js');
  return (t) => {
    if (t.kind === 'baseline') return labelBaseline(t.arch as never);
    const base = spaceLabel ? spaceLabel(t.arch) : JSON.stringify(t.arch);
    return t.kind === 'compressed' && t.steps?.length ? `${base} + ${t.steps.map((s) => s.name).join(' + ')}` : base;
  };
}

/** Reads a run, its trials and front from the store and builds its report. */
export async function loadRunReport(store: RunStore, runId: number, db: string): Promise<RunReport> {
  const run = await requireRun(store, runId, db);
  const [trials, frontIds] = await Promise.all([store.listTrials(runId), store.getFrontIds(runId)]);
  return buildRunReport({ run, trials, frontIds, carbon: await carbonBasisOf(run.settings), label: await labeller(run.space) });
}
