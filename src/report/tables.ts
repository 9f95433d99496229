import type { Comparison, ComparisonDelta, ComparisonRow } from './comparison.js';

/** A table as header and rows of cells (already formatted text). */
export interface TextTable {
  /** Column headers. */
  headers: string[];
  /** Rows of cells, one per header. */
  rows: string[][];
}

/** A count with an SI suffix: 25.56 M, 4.089 G. */
export function formatCount(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  const units: [number, string][] = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, suffix] of units) if (Math.abs(n) >= scale) return `${Number((n / scale).toPrecision(4))} ${suffix}`;
  return String(n);
}

/** A number with a few significant digits and no exponent for everyday magnitudes. */
export function formatValue(v: number | undefined, digits = 4): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-4)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

/** A signed percentage or point change: +12.3 %, -4.1 pts. */
export function formatChange(v: number | undefined, unit: '%' | 'pts'): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  v = Number(v.toPrecision(10)); // 0.9 − 0.8 is 0.0999…: round before choosing the decimals
  const s = Math.abs(v) >= 1000 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  return `${v > 0 ? '+' : ''}${s} ${unit}`;
}

function marked(text: string, row: ComparisonRow, energy: boolean): string {
  if (text === '-') return text;
  return estimatedMark(row.extrapolated ? `${text}*` : text, energy ? row.trainEnergySource : undefined);
}

/** `~` after an energy figure whose source is an estimate. */
function estimatedMark(text: string, source: string | undefined): string {
  return text !== '-' && source === 'estimated' ? `${text}~` : text;
}

/** The comparison table: model, parameters, multiply-adds, training energy and time, inference energy, accuracy, energy per accuracy point, carbon. */
export function comparisonTable(c: Comparison): TextTable {
  return {
    headers: ['model', 'role', 'trial', 'params', 'MACs', 'train energy (kWh)', 'train time (s)', 'infer energy (mJ)', 'latency (ms)', 'accuracy (%)', 'J per acc. point', 'carbon (gCO2e)'],
    rows: c.rows.map((r) => [
      r.name, r.role, String(r.trialId), formatCount(r.params), formatCount(r.macs),
      marked(formatValue(r.trainEnergyKwh), r, true), marked(formatValue(r.trainSeconds), r, false),
      sideMark(estimatedMark(formatValue(r.inferEnergyJ === undefined ? undefined : r.inferEnergyJ * 1000), r.inferEnergySource), r, c),
      sideMark(formatValue(r.latencyMs), r, c),
      r.accuracy === undefined ? (r.extrapolated ? 'n/a*' : '-') : formatValue(r.accuracy * 100),
      marked(formatValue(r.energyPerPointJ), r, true), marked(formatValue(r.carbonG), r, true),
    ]),
  };
}

/** The change of every front and compressed model against every baseline. */
export function deltaTable(c: Comparison): TextTable {
  const name = new Map(c.rows.map((r) => [r.trialId, r.name] as const));
  return {
    headers: ['model', 'vs baseline', 'params', 'MACs', 'train energy', 'train time', 'infer energy', 'accuracy', 'J per acc. point', 'carbon'],
    rows: c.deltas.map((d: ComparisonDelta) => [
      name.get(d.trialId) ?? String(d.trialId), name.get(d.baselineTrialId) ?? String(d.baselineTrialId),
      formatChange(d.paramsPct, '%'), formatChange(d.macsPct, '%'), formatChange(d.trainEnergyPct, '%'), formatChange(d.trainSecondsPct, '%'),
      formatChange(d.inferEnergyPct, '%'), formatChange(d.accuracyPoints, 'pts'), formatChange(d.energyPerPointPct, '%'), formatChange(d.carbonPct, '%'),
    ]),
  };
}

/** Marks an inference figure that is not from compare's side-by-side probe when other rows are. */
function sideMark(cell: string, r: ComparisonRow, c: Comparison): string {
  return cell !== '-' && !r.inferSideBySide && c.rows.some((x) => x.inferSideBySide) ? `${cell}†` : cell;
}

/** Footnotes that explain the table's marks and definitions. */
export function comparisonNotes(c: Comparison): string[] {
  const notes = [
    'J per acc. point: training energy in joules divided by test accuracy in percentage points (lower is better).',
    `carbon: training energy × PUE ${c.carbon.pue} × ${c.carbon.intensityGPerKwh} gCO2e/kWh (${c.carbon.source}).`,
    'infer energy, latency: one inference at batch 1.',
  ];
  if (c.rows.some((r) => r.inferSideBySide)) {
    notes.push('infer energy, latency: timed side by side by compare in one session (rounds that visit every model; ONNX Runtime on one thread where the model converts, else tfjs), so rows compare like for like.');
    if (c.rows.some((r) => r.inferSideBySide !== true && r.inferEnergyJ !== undefined)) notes.push('†: timed where the model was trained or compressed (other load), not side by side; no stored model to time again.');
  }
  for (const r of c.rows) {
    const x = r.extrapolated;
    if (!x) continue;
    notes.push(x.method === 'per-step'
      ? `* ${r.name}: extrapolated: trained for ${x.measuredSteps} steps, energy and time scaled to the run's ${x.plannedSteps} steps (the measured steps include the first step's warm-up and one validation, so this leans high); accuracy not measured (n/a).`
      : `* ${r.name}: extrapolated: energy and time of the proxy-scale baseline (trial ${x.fromTrialId ?? '?'}, ${x.plannedSteps} steps) scaled by the ratio of multiply-adds; not trained here; accuracy not measured (n/a).`);
  }
  if (c.rows.some((r) => r.trainEnergySource === 'estimated' || r.inferEnergySource === 'estimated')) notes.push('~: energy estimated from CPU time and the hardware profile, not read from a counter.');
  return notes;
}

/** Renders a table as aligned plain text. */
export function renderText(t: TextTable): string {
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(t.headers), line(widths.map((w) => '-'.repeat(w))), ...t.rows.map(line)].join('\n') + '\n';
}

function mdCell(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[<>&]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[ch] as string).replace(/\r?\n/g, ' ');
}

/** Renders a table as GitHub-flavoured Markdown (pipes and HTML in cells escaped). */
export function renderMarkdown(t: TextTable): string {
  return [
    `| ${t.headers.map(mdCell).join(' | ')} |`,
    `| ${t.headers.map(() => '---').join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
  ].join('\n') + '\n';
}

function csvCell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Renders rows as RFC 4180 CSV. */
export function renderCsv(headers: readonly string[], rows: readonly (readonly (string | number | undefined)[])[]): string {
  return [headers, ...rows].map((r) => r.map((c) => csvCell(c === undefined ? '' : String(c))).join(',')).join('\r\n') + '\r\n';
}

/** The comparison as CSV with raw numbers (SI units: J, s, fraction) and the delta columns per baseline in further rows. */
export function comparisonCsv(c: Comparison): string {
  const headers = ['trial_id', 'role', 'model', 'params', 'macs', 'train_energy_j', 'train_energy_kwh', 'train_energy_source', 'train_seconds', 'extrapolated', 'infer_energy_j', 'infer_energy_source', 'accuracy', 'latency_ms', 'j_per_accuracy_point', 'carbon_g'];
  return renderCsv(headers, c.rows.map((r) => [
    r.trialId, r.role, r.name, r.params, r.macs, r.trainEnergyJ, r.trainEnergyKwh, r.trainEnergySource, r.trainSeconds,
    r.extrapolated ? `${r.extrapolated.measuredSteps}/${r.extrapolated.plannedSteps} steps` : '', r.inferEnergyJ, r.inferEnergySource, r.accuracy, r.latencyMs, r.energyPerPointJ, r.carbonG,
  ]));
}
