import type { RunRecord, TrialRecord } from '../store/index.js';
import { buildComparison, latencyMetric, trialKind, type Comparison, type ComparisonSource } from './comparison.js';
import { barSvg, escapeHtml, scatterSvg, type PlotPoint, type SeriesStyle } from './svg-plot.js';
import { comparisonCsv, comparisonNotes, comparisonTable, deltaTable, renderMarkdown, type TextTable } from './tables.js';

/** Everything a report shows about one run. */
export interface RunReport {
  /** The run. */
  run: RunRecord;
  /** Every trial of the run. */
  trials: readonly TrialRecord[];
  /** Ids of the run's front. */
  frontIds: readonly number[];
  /** The comparison table. */
  comparison: Comparison;
  /** Display name of a trial's architecture. */
  label: (t: TrialRecord) => string;
}

/** Builds a report from what the store holds. */
export function buildRunReport(src: ComparisonSource): RunReport {
  return { run: src.run, trials: src.trials, frontIds: src.frontIds, comparison: buildComparison(src), label: src.label };
}

function accuracyOf(t: TrialRecord): number | undefined {
  return (t.metrics.find((m) => m.name === 'accuracy') ?? t.metrics.find((m) => m.name === 'accuracy.val'))?.value;
}

function energyMetricOf(t: TrialRecord) {
  return t.metrics.find((m) => m.name === 'energy.train') ?? t.metrics.find((m) => m.name.startsWith('energy'));
}

const SERIES: Record<string, SeriesStyle> = {
  'search trial': { color: '#b8b8b8', shape: 'circle' },
  'Pareto front': { color: '#1f6fd1', shape: 'circle', line: true },
  compressed: { color: '#2a9d3f', shape: 'square' },
  baseline: { color: '#d1352b', shape: 'diamond' },
};

function seriesOf(t: TrialRecord, front: ReadonlySet<number>): string {
  const kind = trialKind(t);
  if (kind === 'baseline') return 'baseline';
  if (kind === 'compressed') return 'compressed';
  return front.has(t.id) ? 'Pareto front' : 'search trial';
}

/** Scatter points of complete trials: accuracy (%) against a cost metric read by `x`. */
function points(r: RunReport, x: (t: TrialRecord) => { value: number; unit: string } | undefined): { points: PlotPoint[]; unit: string } {
  const front = new Set(r.frontIds);
  let unit = '';
  const out: PlotPoint[] = [];
  for (const t of r.trials) {
    if (t.state !== 'complete') continue;
    const acc = accuracyOf(t);
    const xv = x(t);
    if (acc === undefined || !xv) continue;
    unit ||= xv.unit;
    out.push({ x: xv.value, y: acc * 100, series: seriesOf(t, front), label: `${r.label(t)} (trial ${t.id}): accuracy ${(acc * 100).toFixed(2)} %, ${Number(xv.value.toPrecision(4))} ${xv.unit}` });
  }
  return { points: out, unit };
}

/** The two Pareto plots (accuracy against latency, and against training energy) and the energy of each search trial, as inline SVG. */
export function reportPlots(r: RunReport): { latency: string; energy: string; energyPerTrial: string } {
  // Every trial's own probe, so all search trials sit on one scale; the table's side-by-side figures
  // exist only for the models it lists.
  const lat = points(r, (t) => {
    const m = latencyMetric(t);
    return m ? { value: m.value, unit: m.unit } : undefined;
  });
  const en = points(r, (t) => {
    const m = energyMetricOf(t);
    return m ? { value: m.value, unit: m.unit } : undefined;
  });
  const front = new Set(r.frontIds);
  const searchTrials = r.trials.filter((t) => trialKind(t) === 'search');
  const energyUnit = searchTrials.map(energyMetricOf).find((m) => m)?.unit ?? 'J';
  const bars = searchTrials.map((t) => {
    const m = energyMetricOf(t);
    return {
      x: String(t.seq), y: m?.value ?? Number.NaN, color: front.has(t.id) ? SERIES['Pareto front']!.color : SERIES['search trial']!.color,
      label: `trial ${t.id} (#${t.seq}) ${r.label(t)}: ${m ? `${Number(m.value.toPrecision(4))} ${m.unit} (${m.source})` : t.state}`,
    };
  });
  return {
    latency: scatterSvg(lat.points, { title: 'Accuracy against latency', xLabel: `latency at batch 1, probed where each model was trained (${lat.unit || 'ms'}, log scale)`, yLabel: 'test accuracy (%)', logX: true, series: SERIES }),
    energy: scatterSvg(en.points, { title: 'Accuracy against training energy', xLabel: `training energy (${en.unit || 'J'}, log scale)`, yLabel: 'test accuracy (%)', logX: true, series: SERIES }),
    energyPerTrial: barSvg(bars, { title: 'Training energy of each search trial', xLabel: 'trial (evaluation order); blue: on the front', yLabel: `energy (${energyUnit})` }),
  };
}

function htmlTable(t: TextTable, id: string): string {
  const head = `<thead><tr>${t.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>`;
  const body = t.rows.map((r) => `<tr>${r.map((c, i) => `<td${i > 1 ? ' class="num"' : ''}>${escapeHtml(c)}</td>`).join('')}</tr>`).join('');
  return `<table id="${id}">${head}<tbody>${body}</tbody></table>`;
}

/** The run's settings as name/value pairs (nested settings as JSON). */
export function runSettings(run: RunRecord): [string, string][] {
  return [
    ['run', String(run.id)], ['state', run.state + (run.reason ? ` (${run.reason})` : '')], ['space', `${run.space} ${run.spaceVersion}`],
    ['dataset', run.dataset], ['strategy', run.strategy], ['seed', String(run.seed)], ['budget', `${run.budget} trials`],
    ['objectives', run.objectives.join(', ')], ['backend', run.backend], ['host', run.host], ['created', run.createdAt],
    ['versions', Object.entries(run.versions).map(([k, v]) => `${k} ${v}`).join(', ')],
  ];
}

/** One self-contained HTML page: plots as inline SVG, no script and no external resource. */
export function reportHtml(r: RunReport): string {
  const plots = reportPlots(r);
  const c = r.comparison;
  const settings = runSettings(r.run).map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  const counts = { search: 0, compressed: 0, baseline: 0 } as Record<string, number>;
  for (const t of r.trials) counts[trialKind(t)] = (counts[trialKind(t)] ?? 0) + 1;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>greennas run ${r.run.id}: ${escapeHtml(r.run.space)} on ${escapeHtml(r.run.dataset)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:8px 0 16px;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
thead th{background:#f0f0f0}
.plots{display:flex;flex-wrap:wrap;gap:16px}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}
.notes li{font-size:13px}
</style></head><body>
<h1>greennas run ${r.run.id}: ${escapeHtml(r.run.space)} on ${escapeHtml(r.run.dataset)}</h1>
<p>${counts['search']} search trials (${r.frontIds.length} on the front), ${counts['compressed']} compressed models, ${counts['baseline']} baselines.</p>
<h2>Pareto front</h2>
<div class="plots">${plots.latency}${plots.energy}</div>
<h2>Comparison</h2>
${c.rows.length ? htmlTable(comparisonTable(c), 'comparison') : '<p>No complete front members or baselines yet: run <code>greennas compare</code> first.</p>'}
${c.deltas.length ? `<h3>Change against each baseline</h3>${htmlTable(deltaTable(c), 'deltas')}` : ''}
<ul class="notes">${comparisonNotes(c).map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>
<h2>Energy over the search</h2>
${plots.energyPerTrial}
<h2>Run settings</h2>
<table id="settings">${settings}</table>
<pre>${escapeHtml(JSON.stringify(r.run.settings, null, 2))}</pre>
</body></html>
`;
}

/** The report as Markdown: settings, the comparison and change tables, notes (plots are in the HTML form only). */
export function reportMarkdown(r: RunReport): string {
  const c = r.comparison;
  return [
    `# greennas run ${r.run.id}: ${r.run.space} on ${r.run.dataset}`, '',
    '## Comparison', '', c.rows.length ? renderMarkdown(comparisonTable(c)) : '_No complete front members or baselines yet._\n',
    ...(c.deltas.length ? ['## Change against each baseline', '', renderMarkdown(deltaTable(c))] : []),
    ...comparisonNotes(c).map((n) => `- ${n}`), '',
    '## Run settings', '', renderMarkdown({ headers: ['setting', 'value'], rows: runSettings(r.run) }),
  ].join('\n');
}

/** The comparison as CSV (raw numbers in SI units). */
export function reportCsv(r: RunReport): string {
  return comparisonCsv(r.comparison);
}
