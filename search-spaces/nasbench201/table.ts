import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GreennasError } from '../../src/core/index.js';

/** The five NB201 edge operations, in the table's digit order (`ops` column). */
export const NB201_OPERATIONS = ['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3'] as const;

/** The six cell edges [from, to], in the table's digit order. */
export const NB201_EDGES: readonly (readonly [number, number])[] = [
  [0, 1],
  [0, 2],
  [1, 2],
  [0, 3],
  [1, 3],
  [2, 3],
];

/** Dataset ids the table has accuracy, FLOPs and params for; the first is the default. */
export const NB201_DATASETS = ['cifar10', 'cifar100', 'imagenet16-120'] as const;

/** One of NB201_DATASETS. */
export type Nb201Dataset = (typeof NB201_DATASETS)[number];

/** A HW-NAS-Bench column the space exposes as `latency.<device>` or `energy.<device>`. */
export interface HardwareColumn {
  /** Device id, e.g. `edgegpu`. */
  device: string;
  /** `latency` (ms) or `energy` (mJ). */
  kind: 'latency' | 'energy';
  /** CSV column name. */
  column: string;
  /** Human description of the device. */
  hardware: string;
}

/** Every HW-NAS-Bench device column with a latency or energy value (CIFAR-10 input, batch 1). */
export const NB201_HARDWARE: readonly HardwareColumn[] = [
  { device: 'edgegpu', kind: 'latency', column: 'hwnb_c10_edgegpu_latency_ms', hardware: 'NVIDIA Jetson TX2, TensorRT' },
  { device: 'edgegpu', kind: 'energy', column: 'hwnb_c10_edgegpu_energy_mJ', hardware: 'NVIDIA Jetson TX2, TensorRT' },
  { device: 'raspi4', kind: 'latency', column: 'hwnb_c10_raspi4_latency_ms', hardware: 'Raspberry Pi 4, TFLite' },
  { device: 'edgetpu', kind: 'latency', column: 'hwnb_c10_edgetpu_latency_ms', hardware: 'Google Edge TPU dev board' },
  { device: 'pixel3', kind: 'latency', column: 'hwnb_c10_pixel3_latency_ms', hardware: 'Google Pixel 3, TFLite' },
  { device: 'eyeriss', kind: 'latency', column: 'hwnb_c10_eyeriss_latency_ms', hardware: 'Eyeriss ASIC (simulated)' },
  { device: 'eyeriss', kind: 'energy', column: 'hwnb_c10_eyeriss_energy_mJ', hardware: 'Eyeriss ASIC (simulated)' },
  { device: 'fpga', kind: 'latency', column: 'hwnb_c10_fpga_latency_ms', hardware: 'Xilinx ZC706 FPGA (simulated)' },
  { device: 'fpga', kind: 'energy', column: 'hwnb_c10_fpga_energy_mJ', hardware: 'Xilinx ZC706 FPGA (simulated)' },
];

const FILE_NAME = 'nb201_acc_hw.csv';
const OPS_COUNT = NB201_OPERATIONS.length;
const EDGE_COUNT = NB201_EDGES.length;
/** Number of architectures: 5 operations on each of 6 edges. */
export const NB201_SIZE = OPS_COUNT ** EDGE_COUNT;

/** Column-wise, immutable view of nb201_acc_hw.csv; rows are addressed by the 6-digit op code. */
export interface Nb201Table {
  /** Where the CSV was read from. */
  readonly path: string;
  /** Row index for an op code (Σ choice_i · 5^(5−i)), or −1 when the table lacks that architecture. */
  readonly rowOfCode: Int32Array;
  /** The NB201 cell string of each row. */
  readonly archStr: readonly string[];
  /** Numeric columns by CSV name; an empty cell is NaN. */
  column(name: string): Float64Array;
  /** 1 where the EdgeTPU compiler failed on the row. */
  readonly edgetpuCompileFailed: Uint8Array;
  /** 1 where fpga energy was derived as 7.0 × fpga latency rather than stored by HW-NAS-Bench. */
  readonly fpgaEnergyDerived: Uint8Array;
}

/** Op code of a choice vector: the base-5 number whose digits are the choices (the table's `ops`). */
export function opCode(choices: readonly number[]): number {
  let code = 0;
  for (const c of choices) code = code * OPS_COUNT + c;
  return code;
}

function locateCsv(): string {
  // Compiled code lives in dist/search-spaces/nasbench201 while the data stays in search-spaces/.
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, FILE_NAME), join(here, '..', '..', '..', 'search-spaces', 'nasbench201', FILE_NAME)];
  for (const c of candidates) if (existsSync(c)) return c;
  throw new GreennasError(`NAS-Bench-201 table ${FILE_NAME} not found (looked in ${candidates.join(', ')}); reinstall greennas`, 'E_SPACE_DATA');
}

function parseTable(path: string): Nb201Table {
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const header = (lines[0] ?? '').trim().split(',');
  const index = new Map(header.map((h, i) => [h, i]));
  const need = (name: string): number => {
    const i = index.get(name);
    if (i === undefined) throw new GreennasError(`${path}: column ${name} missing; the table file is damaged`, 'E_SPACE_DATA');
    return i;
  };
  const numericNames = header.filter((h) => h.startsWith('acc_test_') || h.startsWith('flops_M_') || h.startsWith('params_M_') || h.startsWith('hwnb_c10_'));
  const numericIdx = numericNames.map(need);
  const opsIdx = need('ops');
  const strIdx = need('arch_str');
  const failIdx = need('hwnb_c10_edgetpu_compile_failed');
  const derivedIdx = need('hwnb_c10_fpga_energy_is_derived');

  const rows = lines.length - 1;
  const cols = numericNames.map(() => new Float64Array(rows).fill(Number.NaN));
  const rowOfCode = new Int32Array(NB201_SIZE).fill(-1);
  const archStr: string[] = [];
  const edgetpuCompileFailed = new Uint8Array(rows);
  const fpgaEnergyDerived = new Uint8Array(rows);
  let n = 0;
  for (let l = 1; l < lines.length; l++) {
    const line = lines[l] as string;
    if (line.length === 0) continue;
    const cells = line.split(',');
    const ops = cells[opsIdx] as string;
    if (ops.length !== EDGE_COUNT) throw new GreennasError(`${path}:${l + 1}: ops '${ops}' is not 6 digits`, 'E_SPACE_DATA');
    rowOfCode[Number.parseInt(ops, OPS_COUNT)] = n;
    archStr.push(cells[strIdx] as string);
    for (let j = 0; j < numericIdx.length; j++) {
      const cell = cells[numericIdx[j] as number] as string;
      if (cell !== '') (cols[j] as Float64Array)[n] = Number(cell);
    }
    edgetpuCompileFailed[n] = cells[failIdx] === '1' ? 1 : 0;
    fpgaEnergyDerived[n] = cells[derivedIdx] === '1' ? 1 : 0;
    n++;
  }
  const byName = new Map(numericNames.map((name, j) => [name, (cols[j] as Float64Array).subarray(0, n)]));
  return {
    path,
    rowOfCode,
    archStr,
    column(name: string): Float64Array {
      const c = byName.get(name);
      if (!c) throw new GreennasError(`NAS-Bench-201 table has no column ${name}`, 'E_SPACE_DATA');
      return c;
    },
    edgetpuCompileFailed: edgetpuCompileFailed.subarray(0, n),
    fpgaEnergyDerived: fpgaEnergyDerived.subarray(0, n),
  };
}

let cached: Nb201Table | undefined;

/** The NB201 table, parsed on first use and cached for the life of the process. */
export function loadNb201Table(): Nb201Table {
  cached ??= parseTable(locateCsv());
  return cached;
}
