import { createRng, shuffleInPlace, type Logger, type MetricValue } from '../core/index.js';
import type { RunRecord, RunStore, TrialRecord } from '../store/index.js';
import { comparisonTrials, SIDE_BY_SIDE } from '../report/index.js';
import { evaluatorOptionsFrom, openRunSession, type ProxyConfig } from './proxy-options.js';
import type { SearchSettings } from './search-setup.js';

/*
 * The inference half of `greennas compare`. Search and baseline trials time inference inside their
 * training workers, while other workers train beside them; compressed models are timed in the
 * compress session. Those figures answer "how fast was it where it was trained", not "which model
 * is cheaper to serve": the machine's load differs between them, and the estimate meter's idle share
 * grows with wall time. So compare times every model of the table again, here, one after another in
 * rounds (each round visits every model, so a change of load hits all of them alike), on the same
 * runtime and meter, and stores the result on each trial under the names below.
 */

/** Rounds of the side-by-side probe (each visits every model once). */
export const SIDE_BY_SIDE_ROUNDS = 3;

/**
 * Times batch-1 inference of every model of the comparison table side by side in this process
 * (ONNX Runtime on one thread when the model converts, else the run's tfjs backend; the estimate
 * meter reads this process's CPU time) and stores `latency.cpu.compare` and `energy.infer.compare`
 * on each trial. Returns how many models were measured.
 */
export async function remeasureInference(o: { store: RunStore; run: RunRecord; logger: Logger; rounds?: number }): Promise<number> {
  const { store, run, logger } = o;
  const settings = run.settings as unknown as SearchSettings;
  const proxy = settings.proxy as ProxyConfig | undefined;
  if (!proxy) return 0;
  const withModels: { trial: TrialRecord; artifact: NonNullable<Awaited<ReturnType<RunStore['getModel']>>> }[] = [];
  const picked = comparisonTrials(await store.listTrials(run.id), await store.getFrontIds(run.id));
  for (const trial of [...picked.front, ...picked.compressed, ...picked.baseline]) {
    const artifact = await store.getModel(trial.id);
    if (artifact) withModels.push({ trial, artifact });
  }
  if (withModels.length === 0) return 0;

  const { loadModelArtifact } = await import('../trainer/model-artifacts.js');
  const { inferenceMetrics, meterSideBySide } = await import('../compress/measure.js');
  const { backend, ds, energy } = await openRunSession(proxy, run.dataset, evaluatorOptionsFrom(proxy, run.dataset, run.seed));
  const models: { trial: TrialRecord; model: Awaited<ReturnType<typeof loadModelArtifact>> }[] = [];
  for (const w of withModels) models.push({ trial: w.trial, model: await loadModelArtifact(w.artifact) });
  const rounds = Math.max(1, o.rounds ?? SIDE_BY_SIDE_ROUNDS);
  logger.info(`compare: timing inference of ${models.length} models side by side, ${rounds} rounds (meter ${energy.meter.name})`);
  let combined;
  try {
    const ctx = { test: ds.test, inputShape: ds.task.inputShape, meter: energy.meter, backend: backend.name };
    const sideBySide = models.map((m) => ({ model: m.model, label: (r: number) => `run-${run.id}/compare/trial-${m.trial.id}/infer-${r}` }));
    // A seeded shuffle per round, so no model always runs right after the same neighbour.
    combined = await meterSideBySide(sideBySide, ctx, rounds, (r) => {
      logger.info(`compare: inference round ${r + 1}/${rounds}`);
      return shuffleInPlace(models.map((_, i) => i), createRng(`compare-infer/${run.id}/${r}`));
    });
  } finally {
    for (const m of models) m.model.dispose();
  }
  const session = { by: 'compare', models: models.length, rounds, measuredAt: new Date().toISOString(), trials: models.map((m) => m.trial.id) };
  for (const [i, m] of models.entries()) {
    const c = combined[i]!;
    const detail = { runtime: c.runtime ?? 'tfjs', ...(c.runtime === 'onnxruntime-node' ? { intraOpThreads: 1 } : { backend: backend.name }), roundsJPerInference: c.roundsJ, sideBySide: session };
    const metrics: MetricValue[] = inferenceMetrics(c, detail).map((v) => ({ ...v, name: v.name === 'latency.cpu' ? SIDE_BY_SIDE.latency : SIDE_BY_SIDE.energy }));
    await store.setMetrics(m.trial.id, metrics);
  }
  return models.length;
}
