import type * as tf from '@tensorflow/tfjs';
import { type Logger, type MetricValue, type ModelArtifact, silentLogger } from '../core/index.js';
import type { CompressPlan, CompressStepName } from './plan.js';
import type { DataSplit } from '../data/index.js';
import { measureEnergy, measurementToMetric, weakestSource, type EnergyMeter, type EnergySource, type Measurement } from '../energy/index.js';
import { saveModelArtifact } from '../trainer/model-artifacts.js';
import type { ProxyBudget } from '../trainer/proxy-training.js';
import { pruneChannels } from './channel-pruning.js';
import { removeGates } from './gate-removal.js';
import { fineTune } from './fine-tune.js';
import { roundWeightsToFloat16 } from './float16.js';
import { pruneMagnitude, type WeightMasks } from './magnitude-pruning.js';
import { combineRounds, layersModelMetrics, meterSideBySide, structureMetrics, type InferenceProbe, type MeasureContext } from './measure.js';
import { artifactSizeBytes, float16Artifact } from './model-bytes.js';
import { cloneModel } from './model-rebuild.js';
import { foldBatchNorms } from './batch-norm-folding.js';

/** The data compression trains, calibrates and measures on (the run's splits). */
export interface CompressData {
  /** Training split (fine-tuning). */
  train: DataSplit;
  /** Validation split (checkpoints; INT8 calibration: held out from training and test). */
  validation: DataSplit;
  /** Test split (reported accuracy). */
  test: DataSplit;
  /** One sample's shape. */
  inputShape: readonly number[];
  /** Classes. */
  numClasses: number;
}

/** INT8 quantization and measurement in another runtime (ONNX Runtime), passed in by the caller. */
export interface Int8Runtime {
  /**
   * Quantizes `model` to INT8 (per-channel weights, activations calibrated on `calibration`) and
   * measures it and `parent` as float32 in that runtime alike, alternating `rounds` times: test
   * accuracy, size, batch-1 latency and energy per inference. The float parent is the like-for-like reference.
   */
  quantizeAndMeasure(model: tf.LayersModel, parent: tf.LayersModel, calibration: DataSplit, label: string, rounds: number): Promise<{ metrics: MetricValue[]; parentFloat: MetricValue[]; detail: Record<string, unknown> }>;
}

/** What compressing one model needs besides the plan. */
export interface CompressContext {
  /** The run's splits. */
  data: CompressData;
  /** Meter of inference energy. */
  meter: EnergyMeter;
  /** tfjs backend name (recorded with latency). */
  backend: string;
  /** The teacher (the run's most accurate trial), when `distill` is a step. */
  teacher?: tf.LayersModel;
  /** The teacher's trial id, for the record. */
  teacherTrialId?: number;
  /** INT8 runtime, when `quantize` with int8 is a step. */
  int8?: Int8Runtime;
  /** Latency / energy probe. */
  probe?: InferenceProbe;
  /**
   * The parent's own training cost (its trial's `energy.train` and `train.seconds`), when known: the
   * compressed model's `energy.train` is then the parent's plus this compression's training passes,
   * what producing the compressed model cost in all.
   */
  parentTraining?: { energy?: MetricValue; seconds?: number };
  /** Parent and compressed model are metered alternately this many times each (default 3), so a change of machine load hits both alike. */
  rounds?: number;
  /** Progress. */
  logger?: Logger;
  /** Label prefix of energy windows. */
  label: string;
}

/** One applied step, as stored with the compressed trial. */
export interface AppliedStep {
  /** Step name. */
  name: CompressStepName;
  /** Settings it ran with. */
  settings: Record<string, unknown>;
  /** What it reported. */
  detail: Record<string, unknown>;
}

/** What compressModel returns. */
export interface CompressOutcome {
  /** Steps applied with their settings and reports. */
  steps: AppliedStep[];
  /** Metrics of the compressed model; each carries `detail.parent`, the parent's value measured the same way in this session. */
  metrics: MetricValue[];
  /** The parent's metrics as re-measured in this session (tfjs). */
  parentMetrics: MetricValue[];
  /** After INT8: the parent as float32 ONNX, measured in ONNX Runtime like the INT8 model. */
  parentOnnxMetrics?: MetricValue[];
  /** The compressed model to store (float16-encoded after fp16; the float model before INT8 conversion after int8). */
  artifact: ModelArtifact;
}

function withParent(metrics: MetricValue[], parent: MetricValue[]): MetricValue[] {
  const byName = new Map(parent.map((m) => [m.name, m]));
  return metrics.map((m) => {
    const p = byName.get(m.name);
    return p ? { ...m, detail: { ...m.detail, parent: p.value } } : m;
  });
}

/**
 * Applies the plan's steps to a copy of `parent` in order and re-measures the result:
 * prune (magnitude with fixed masks, or channels) then fine-tune; distill (train on the teacher's
 * soft targets, keeping any pruning mask); fold (batch norms and ReLUs into the convolution before
 * them); quantize (fp16: weights rounded and stored as float16;
 * int8: handed to the INT8 runtime). Parent and compressed model are metered alternately in rounds
 * with the same probe and meter, so both see the same machine load. `parent` itself is not changed.
 */
export async function compressModel(parent: tf.LayersModel, plan: CompressPlan, ctx: CompressContext): Promise<CompressOutcome> {
  const logger = ctx.logger ?? silentLogger;
  const { data } = ctx;
  const measureCtx = { test: data.test, inputShape: data.inputShape, meter: ctx.meter, backend: ctx.backend, probe: ctx.probe };
  const parentArtifact = await saveModelArtifact(parent);
  const parentSize = { value: artifactSizeBytes(parentArtifact), weights: 'float32' };
  const steps: AppliedStep[] = [];
  const splits = { train: data.train, validation: data.validation, inputShape: data.inputShape, numClasses: data.numClasses };
  let model: tf.LayersModel | undefined;
  let masks: WeightMasks | undefined;
  const passes: { step: CompressStepName; measurement: Measurement }[] = [];
  const metered = async <T>(step: CompressStepName, work: () => Promise<T>): Promise<T> => {
    const { value, measurement } = await measureEnergy(ctx.meter, `${ctx.label}/${step}`, work);
    passes.push({ step, measurement });
    return value;
  };
  const current = () => model ?? parent;
  const replace = (next: tf.LayersModel) => {
    model?.dispose();
    model = next;
  };
  try {
    for (const name of plan.steps) {
      const t0 = performance.now();
      if (name === 'prune') {
        const { method, sparsity } = plan.prune;
        const detail: Record<string, unknown> = {};
        if (method === 'magnitude') {
          const r = pruneMagnitude(current(), sparsity);
          replace(r.model);
          masks?.dispose();
          masks = r.masks;
          Object.assign(detail, { actualSparsity: r.actualSparsity, kernelWeights: r.kernelWeights, zeroWeights: r.zeroWeights, note: 'unstructured zeros: dense kernels still multiply them, so tfjs latency is not expected to drop' });
        } else {
          if (plan.prune.dropGates) {
            const g = removeGates(current());
            replace(g.model);
            detail.gates = { removed: g.gates.length, layersRemoved: g.layersRemoved.length, paramsBefore: g.paramsBefore, paramsAfter: g.paramsAfter, macsBefore: g.macsBefore, macsAfter: g.macsAfter };
          }
          const r = pruneChannels(current(), sparsity, { multipleOf: plan.prune.multipleOf ?? 1 });
          replace(r.model);
          Object.assign(detail, {
            channelSparsity: r.channelSparsity, paramsBefore: r.paramsBefore, paramsAfter: r.paramsAfter, macsBefore: r.macsBefore, macsAfter: r.macsAfter,
            groupsPruned: r.groups.filter((g) => !g.skipped && g.channelsAfter < g.channelsBefore).length,
            groupsSkipped: r.groups.filter((g) => g.skipped).map((g) => `${g.producers.join('+')}: ${g.skipped}`),
          });
        }
        logger.info(`${ctx.label}: pruned (${method}${plan.prune.dropGates ? ' and gates' : ''}, sparsity ${sparsity}); fine-tuning ${plan.budget.epochs} epoch(s)`);
        const tuned = await metered(name, () => fineTune(current(), splits, plan.budget, { masks }));
        detail.fineTune = { steps: tuned.steps, valAccuracy: tuned.valAccuracy, epochs: plan.budget.epochs };
        steps.push({ name, settings: { method, sparsity, ...(plan.prune.dropGates ? { dropGates: true } : {}), ...(method === 'channels' ? { multipleOf: plan.prune.multipleOf ?? 1 } : {}), fineTuneEpochs: plan.budget.epochs }, detail: { ...detail, seconds: (performance.now() - t0) / 1000 } });
      } else if (name === 'distill') {
        const teacher = ctx.teacher;
        if (!teacher) throw new Error('distill needs a teacher model (a bug: the caller validates this)');
        if (!model) replace(cloneModel(parent));
        logger.info(`${ctx.label}: distilling from trial ${ctx.teacherTrialId ?? '?'} (T ${plan.distill.temperature}, α ${plan.distill.alpha}), ${plan.budget.epochs} epoch(s)`);
        const tuned = await metered(name, () => fineTune(current(), splits, plan.budget, { masks, distill: { teacher, ...plan.distill } }));
        steps.push({
          name, settings: { ...plan.distill, teacherTrialId: ctx.teacherTrialId, epochs: plan.budget.epochs },
          detail: { steps: tuned.steps, valAccuracy: tuned.valAccuracy, seconds: (performance.now() - t0) / 1000 },
        });
      } else if (name === 'fold') {
        const r = foldBatchNorms(current());
        replace(r.model);
        steps.push({ name, settings: {}, detail: { foldedBatchNorms: r.foldedBatchNorms, fusedActivations: r.fusedActivations, layersBefore: r.layersBefore, layersAfter: r.layersAfter, note: 'same function in inference mode, fewer layers' } });
      } else if (plan.quantize === 'fp16') {
        replace(roundWeightsToFloat16(current()));
        steps.push({ name, settings: { format: 'fp16' }, detail: { note: 'weights rounded to float16 and stored as float16; tfjs computes in float32, so latency and energy are not expected to drop' } });
      } else {
        if (!ctx.int8) throw new Error('int8 needs an INT8 runtime (a bug: the caller validates this)');
        logger.info(`${ctx.label}: INT8 quantization in ONNX Runtime (activations calibrated on the validation split)`);
        const q = await ctx.int8.quantizeAndMeasure(current(), parent, data.validation, ctx.label, ctx.rounds ?? 3);
        steps.push({ name, settings: { format: 'int8', calibrationSplit: 'validation' }, detail: { ...q.detail, seconds: (performance.now() - t0) / 1000 } });
        // The INT8 model runs in ONNX Runtime; what tfjs stores is the float model that was quantized.
        const artifact = await saveModelArtifact(current());
        const tfjsOnly = structureMetrics(current());
        const parentInference = await meterRounds(parent, undefined, { ...measureCtx, label: ctx.label }, ctx.rounds);
        const parentMetrics = layersModelMetrics(parent, parentSize, parentInference.parent, { ...measureCtx, label: ctx.label });
        // The parent as float32 in the same runtime: INT8 latency and energy are compared with it, not with tfjs.
        const parentOnnx = q.parentFloat;
        const reference = new Map(parentOnnx.map((m) => [m.name, m.value]));
        const metrics = q.metrics.map((m) => (reference.has(m.name) ? { ...m, detail: { ...m.detail, onnxFloat32: reference.get(m.name) } } : m));
        const names = new Set(metrics.map((m) => m.name));
        const all = [...metrics, ...tfjsOnly.filter((m) => !names.has(m.name)), ...trainingMetrics(passes, ctx.parentTraining)];
        return { steps, parentMetrics, parentOnnxMetrics: parentOnnx, metrics: withParent(all, parentMetrics), artifact };
      }
    }
    const fp16 = plan.steps.includes('quantize') && plan.quantize === 'fp16';
    const stored = await saveModelArtifact(current());
    const artifact = fp16 ? float16Artifact(stored) : stored;
    const inference = await meterRounds(parent, current(), { ...measureCtx, label: ctx.label }, ctx.rounds);
    const parentMetrics = layersModelMetrics(parent, parentSize, inference.parent, { ...measureCtx, label: ctx.label });
    const metrics = layersModelMetrics(current(), { value: artifactSizeBytes(artifact), weights: fp16 ? 'float16' : 'float32' }, inference.child!, { ...measureCtx, label: ctx.label });
    return { steps, parentMetrics, metrics: withParent([...metrics, ...trainingMetrics(passes, ctx.parentTraining)], parentMetrics), artifact };
  } finally {
    masks?.dispose();
    model?.dispose();
  }
}

/**
 * `energy.compress` and `compress.seconds` (this compression's fine-tuning and distillation passes),
 * and, when the parent's training cost is known, the compressed model's cumulative `energy.train` and
 * `train.seconds` (parent's training plus those passes; the weaker of the two sources).
 */
function trainingMetrics(passes: readonly { step: CompressStepName; measurement: Measurement }[], parent: CompressContext['parentTraining']): MetricValue[] {
  if (passes.length === 0) return [];
  const perPass = passes.map((p) => ({ step: p.step, metric: measurementToMetric(p.measurement, 'energy.compress'), seconds: p.measurement.durationS }));
  const seconds = perPass.reduce((a, p) => a + p.seconds, 0);
  const out: MetricValue[] = [{ name: 'compress.seconds', value: seconds, unit: 's', source: 'measured', detail: { passes: perPass.map((p) => ({ step: p.step, seconds: p.seconds })) } }];
  if (perPass.some((p) => !p.metric)) return out; // a meter with no reading: no energy figure rather than a partial sum
  const energyJ = perPass.reduce((a, p) => a + (p.metric as MetricValue).value, 0);
  const sources = perPass.map((p) => (p.metric as MetricValue).source);
  // Energy metrics carry a meter's source (counter, polled, estimated).
  const weakest = (list: readonly MetricValue['source'][]) => weakestSource(list as EnergySource[]) as MetricValue['source'];
  const first = perPass[0]!.metric as MetricValue;
  out.push({
    name: 'energy.compress', value: energyJ, unit: 'J', source: weakest(sources),
    detail: { meter: first.detail?.['meter'], devices: first.detail?.['devices'], passes: perPass.map((p) => ({ step: p.step, energyJ: (p.metric as MetricValue).value, durationS: p.seconds })) },
  });
  if (parent?.energy && Number.isFinite(parent.energy.value)) {
    out.push({
      name: 'energy.train', value: parent.energy.value + energyJ, unit: 'J', source: weakest([parent.energy.source, ...sources]),
      detail: { cumulative: 'the parent trial\'s training plus this compression\'s fine-tuning and distillation', parentJ: parent.energy.value, compressJ: energyJ, meter: first.detail?.['meter'], devices: first.detail?.['devices'] },
    });
  }
  if (parent?.seconds !== undefined && Number.isFinite(parent.seconds)) {
    out.push({ name: 'train.seconds', value: parent.seconds + seconds, unit: 's', source: 'measured', detail: { cumulative: 'parent training plus compression passes', parentS: parent.seconds, compressS: seconds } });
  }
  return out;
}

/** Meters parent and child inference alternately, `rounds` times each, and combines each side's rounds. */
async function meterRounds(parent: tf.LayersModel, child: tf.LayersModel | undefined, ctx: MeasureContext, rounds = 3): Promise<{ parent: ReturnType<typeof combineRounds>; child?: ReturnType<typeof combineRounds> }> {
  const models = [{ model: parent, label: (r: number) => `${ctx.label}/parent-infer-${r}` }, ...(child ? [{ model: child, label: (r: number) => `${ctx.label}/infer-${r}` }] : [])];
  const [p, c] = await meterSideBySide(models, ctx, rounds);
  return { parent: p!, ...(c ? { child: c } : {}) };
}
