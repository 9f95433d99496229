/**
 * NAS-Bench-201 as a greennas search space: the 15,625-architecture cell space, evaluated by looking
 * up the published table (NATS-Bench accuracy, HW-NAS-Bench latency / energy). Written against the
 * public surface only, exactly as a user's plug-in would be.
 */
import { TrialError, UserError, type MetricSpec, type MetricValue, type Rng } from '../../src/core/index.js';
import type { Decision, SearchSpace, TableEvaluationContext } from '../../src/space/index.js';
import {
  NB201_DATASETS,
  NB201_EDGES,
  NB201_HARDWARE,
  NB201_OPERATIONS,
  loadNb201Table,
  opCode,
  type HardwareColumn,
  type Nb201Dataset,
} from './table.js';

export { NB201_DATASETS, NB201_EDGES, NB201_HARDWARE, NB201_OPERATIONS, loadNb201Table, opCode } from './table.js';
export type { HardwareColumn, Nb201Dataset, Nb201Table } from './table.js';

/** An NB201 architecture: its standard cell string, e.g. `|nor_conv_3x3~0|+|none~0|skip_connect~1|+|…|`. */
export type Nb201Arch = string;

const OPS = NB201_OPERATIONS;
const HW_INPUT = 'CIFAR-10 input 32x32, batch 1 (HW-NAS-Bench measured every device on CIFAR-10-sized input)';

const DECISIONS: readonly Decision[] = NB201_EDGES.map(([from, to]) => ({ name: `edge_${from}_${to}`, choices: OPS }));

/** Column suffix the CSV uses for a dataset id. */
function columnSuffix(dataset: Nb201Dataset): string {
  return dataset.replace('-', '_');
}

/** Accepts a dataset id case-insensitively; a UserError names the flag and the valid ids otherwise. */
export function nb201Dataset(dataset: string): Nb201Dataset {
  const d = dataset.toLowerCase() as Nb201Dataset;
  if (!NB201_DATASETS.includes(d)) {
    throw new UserError(`--dataset '${dataset}' is not a NAS-Bench-201 dataset; use one of ${NB201_DATASETS.join(', ')}`, { subject: '--dataset' });
  }
  return d;
}

function hardwareMetricName(h: HardwareColumn): string {
  return `${h.kind}.${h.device}`;
}

const METRICS_BY_DATASET = new Map<Nb201Dataset, readonly MetricSpec[]>(
  NB201_DATASETS.map((dataset) => [
    dataset,
    [
      { name: 'accuracy', direction: 'maximize', unit: 'fraction', description: `top-1 test accuracy on ${dataset} after 200 epochs (NATS-Bench, mean over seeds)` },
      ...NB201_HARDWARE.map(
        (h): MetricSpec => ({
          name: hardwareMetricName(h),
          direction: 'minimize',
          unit: h.kind === 'latency' ? 'ms' : 'mJ',
          description: `${h.kind} per image on ${h.device} (${h.hardware}; HW-NAS-Bench, ${HW_INPUT})`,
        }),
      ),
      { name: 'flops', direction: 'minimize', unit: 'MFLOPs', description: `millions of FLOPs per ${dataset} image (NB201/xautodl convention)` },
      { name: 'params', direction: 'minimize', unit: 'Mparams', description: `millions of parameters for ${dataset} (NB201/xautodl convention)` },
    ],
  ]),
);

// Valid cell strings are few (15,625) and parsed on every key()/encode(); strategies call them
// thousands of times per ask, so parses are cached. Only strings that parse are stored.
const parsedCells = new Map<string, readonly number[]>();

function parseCell(value: unknown): number[] {
  const hit = typeof value === 'string' ? parsedCells.get(value) : undefined;
  if (hit) return [...hit];
  const choices = parseCellUncached(value);
  parsedCells.set(value as string, Object.freeze([...choices]));
  return choices;
}

function parseCellUncached(value: unknown): number[] {
  const fail = (why: string): never => {
    throw new UserError(
      `architecture ${JSON.stringify(value)} is not a NAS-Bench-201 cell string: ${why}. ` +
        `Write it as |op~0|+|op~0|op~1|+|op~0|op~1|op~2| with op one of ${OPS.join(', ')}`,
      { subject: 'architecture' },
    );
  };
  if (typeof value !== 'string') return fail(`expected a string, got ${value === null ? 'null' : typeof value}`);
  const groups = value.split('+');
  if (groups.length !== 3) return fail(`expected 3 node groups separated by '+', found ${groups.length}`);
  const choices: number[] = [];
  groups.forEach((group, g) => {
    if (!group.startsWith('|') || !group.endsWith('|')) fail(`group ${g + 1} must start and end with '|'`);
    const edges = group.slice(1, -1).split('|');
    if (edges.length !== g + 1) fail(`node ${g + 1} must have ${g + 1} input edge(s), found ${edges.length}`);
    edges.forEach((edge, from) => {
      const parts = edge.split('~');
      if (parts.length !== 2) fail(`edge '${edge}' must be written op~node`);
      const [op, src] = parts;
      if (src !== String(from)) fail(`edge '${edge}' must come from node ${from} (write ${op}~${from})`);
      const idx = OPS.indexOf(op as (typeof OPS)[number]);
      if (idx < 0) fail(`unknown operation '${op}'`);
      choices.push(idx);
    });
  });
  // The string lists edges node by node (0→1 | 0→2, 1→2 | 0→3, 1→3, 2→3), which is the table's edge order.
  return choices;
}

function formatCell(choices: readonly number[]): Nb201Arch {
  const op = (i: number): string => {
    const c = choices[i];
    if (c === undefined || !Number.isInteger(c) || c < 0 || c >= OPS.length) {
      throw new UserError(`choice ${JSON.stringify(c)} for decision ${DECISIONS[i]?.name ?? i} is not an index into ${OPS.length} operations`, { subject: 'architecture' });
    }
    return `${OPS[c]}~${NB201_EDGES[i]?.[0]}`;
  };
  if (choices.length !== NB201_EDGES.length) throw new UserError(`a NAS-Bench-201 architecture has ${NB201_EDGES.length} choices, got ${choices.length}`, { subject: 'architecture' });
  return `|${op(0)}|+|${op(1)}|${op(2)}|+|${op(3)}|${op(4)}|${op(5)}|`;
}

/** Input-to-output paths of the cell as edge indices (0→3; 0→1→3; 0→2→3; 0→1→2→3). */
const PATHS: readonly (readonly number[])[] = [[3], [0, 4], [1, 5], [0, 2, 5]];

/**
 * One code per input-to-output path: 0 when an edge on it is `none` (the path is cut), else 1 + the
 * op sequence in base 4. Cells with equal codes compute the same function up to the choices on dead
 * edges (the path encoding of White et al., BANANAS 2021), which a surrogate cannot see from choices.
 */
function pathCodes(choices: readonly number[]): number[] {
  return PATHS.map((path) => {
    let code = 0;
    for (const e of path) {
      const c = choices[e] as number;
      if (c === 0) return 0;
      code = code * (OPS.length - 1) + (c - 1);
    }
    return 1 + code;
  });
}

function randomChoices(rng: Rng): number[] {
  return DECISIONS.map(() => rng.int(OPS.length));
}

function rowOf(arch: Nb201Arch): number {
  const table = loadNb201Table();
  const row = table.rowOfCode[opCode(parseCell(arch))] as number;
  if (row < 0) throw new TrialError(`NAS-Bench-201 table has no row for ${arch}`, 'E_TABLE_MISSING');
  return row;
}

/** Why a hardware value is absent, in the words of a device that could not run the model. */
function missingReason(h: HardwareColumn, row: number): { message: string; code: string } {
  const table = loadNb201Table();
  if (h.device === 'edgetpu' && table.edgetpuCompileFailed[row] === 1) {
    return { message: 'the EdgeTPU compiler failed on this architecture (HW-NAS-Bench stores -1 for it), so it has no edgetpu latency', code: 'E_DEVICE_COMPILE' };
  }
  return {
    message: `HW-NAS-Bench has no ${h.device} ${h.kind} for this architecture (its ${h.device} ${h.kind} export covers 12,554 of 15,625 cells)`,
    code: 'E_TABLE_MISSING',
  };
}

/**
 * Every metric of one table row for `dataset`: the values it has, and for each missing one why.
 * Shared by evaluate() and nasbench201Records() so both read the table the same way.
 */
function rowMetrics(row: number, dataset: Nb201Dataset): { values: MetricValue[]; missing: Map<string, { message: string; code: string }> } {
  const table = loadNb201Table();
  const suffix = columnSuffix(dataset);
  const values: MetricValue[] = [];
  const missing = new Map<string, { message: string; code: string }>();
  const accColumn = `acc_test_${suffix}`;
  values.push({ name: 'accuracy', value: (table.column(accColumn)[row] as number) / 100, unit: 'fraction', source: 'table', detail: { table: 'NATS-Bench TSS hp=200', column: accColumn, scale: 'percent / 100' } });
  for (const h of NB201_HARDWARE) {
    const name = hardwareMetricName(h);
    const v = table.column(h.column)[row] as number;
    if (Number.isNaN(v)) {
      missing.set(name, missingReason(h, row));
      continue;
    }
    const derived = h.device === 'fpga' && h.kind === 'energy' && table.fpgaEnergyDerived[row] === 1;
    values.push({
      name,
      value: v,
      unit: h.kind === 'latency' ? 'ms' : 'mJ',
      // HW-NAS-Bench lacks fpga energy for some rows; it is exactly 7.0 × latency in every row it has.
      source: derived ? 'computed' : 'table',
      detail: derived
        ? { table: 'HW-NAS-Bench', column: h.column, derivedFrom: 'hwnb_c10_fpga_latency_ms', formula: '7.0 × fpga latency (the ratio of every stored row)', input: HW_INPUT }
        : { table: 'HW-NAS-Bench', column: h.column, device: h.hardware, input: HW_INPUT },
    });
  }
  const flopsColumn = `flops_M_${suffix}`;
  const paramsColumn = `params_M_${suffix}`;
  values.push({ name: 'flops', value: table.column(flopsColumn)[row] as number, unit: 'MFLOPs', source: 'table', detail: { table: 'NAS-Bench-201', column: flopsColumn } });
  values.push({ name: 'params', value: table.column(paramsColumn)[row] as number, unit: 'Mparams', source: 'table', detail: { table: 'NAS-Bench-201', column: paramsColumn } });
  return { values, missing };
}

/** The NAS-Bench-201 space (15,625 cells, table lookup). */
export const nasbench201: SearchSpace<Nb201Arch> = {
  name: 'nasbench201',
  version: '1.0.0',
  description: 'NAS-Bench-201 cell space (15,625 architectures) looked up in the NATS-Bench + HW-NAS-Bench table; no training',
  datasets: NB201_DATASETS,
  decisions: () => DECISIONS,
  encode: (arch) => parseCell(arch),
  decode: (choices) => formatCell(choices),
  validate: (value) => formatCell(parseCell(value)),
  sample: (rng) => formatCell(randomChoices(rng)),
  mutate(arch, rng) {
    const choices = parseCell(arch);
    const edge = rng.int(choices.length);
    // Draw among the 4 other operations so the result always differs from the parent.
    choices[edge] = ((choices[edge] as number) + 1 + rng.int(OPS.length - 1)) % OPS.length;
    return formatCell(choices);
  },
  crossover(a, b, rng) {
    const ca = parseCell(a);
    const cb = parseCell(b);
    return formatCell(ca.map((c, i) => (rng.next() < 0.5 ? c : (cb[i] as number))));
  },
  // The key is the cell string itself: architectures are de-duplicated by string, not by graph
  // isomorphism (6,466 classes), because the table lists all 15,625 strings with their own values
  // and the benchmark protocol counts each string as one architecture.
  key: (arch) => (parsedCells.has(arch) ? arch : formatCell(parseCell(arch))),
  metrics: (dataset) => METRICS_BY_DATASET.get(nb201Dataset(dataset)) as readonly MetricSpec[],
  evaluate(arch, context: TableEvaluationContext) {
    const dataset = nb201Dataset(context.dataset);
    const row = rowOf(arch);
    const { values, missing } = rowMetrics(row, dataset);
    for (const name of context.metrics ?? []) {
      const why = missing.get(name);
      if (why) throw new TrialError(why.message, why.code);
    }
    return values;
  },
  label: (arch) => parseCell(arch).join(''),
  features: (arch) => pathCodes(parseCell(arch)),
  enumerate: () => (allCells ??= Object.freeze(Array.from({ length: OPS.length ** DECISIONS.length }, (_, n) => formatCell(DECISIONS.map((_, i) => Math.floor(n / OPS.length ** (DECISIONS.length - 1 - i)) % OPS.length))))),
};

// Built on first use and shared: every strategy instance of a process screens the same list.
let allCells: readonly Nb201Arch[] | undefined;

export default nasbench201;

/** One architecture of the table with the metric values it has (missing ones left out). */
export interface Nb201Record {
  /** Cell string. */
  arch: Nb201Arch;
  /** Metric name → value, in the units of nasbench201.metrics(dataset). */
  metrics: Record<string, number>;
}

/** Every architecture of the table with its metrics on `dataset`; benches use it for the true front. */
export function nasbench201Records(dataset: string): Nb201Record[] {
  const d = nb201Dataset(dataset);
  const table = loadNb201Table();
  const out: Nb201Record[] = [];
  for (let row = 0; row < table.archStr.length; row++) {
    const metrics: Record<string, number> = {};
    for (const v of rowMetrics(row, d).values) metrics[v.name] = v.value;
    out.push({ arch: table.archStr[row] as string, metrics });
  }
  return out;
}
