import type { TrialRecord } from '../store/index.js';

/** The stable JSON shape of a trial for `trials --json` and `front --json`. */
export interface TrialJson {
  /** Trial id. */
  id: number;
  /** Evaluation order within the run. */
  seq: number;
  /** The space's architecture JSON. */
  arch: unknown;
  /** State. */
  state: TrialRecord['state'];
  /** Metric name → number (accuracy as a fraction). */
  metrics: Record<string, number>;
  /** Metric name → unit and source (provenance of each number). */
  provenance: Record<string, { unit: string; source: string; detail?: Record<string, unknown> }>;
  /** Failure reason. */
  error?: { name: string; code?: string; message: string };
  /** Wall time of the evaluation. */
  durationMs?: number;
  /** Backend that evaluated it. */
  backend?: string;
}

/** Converts a stored trial to its JSON shape. */
export function trialToJson(t: TrialRecord): TrialJson {
  const metrics: Record<string, number> = {};
  const provenance: TrialJson['provenance'] = {};
  for (const m of t.metrics) {
    metrics[m.name] = m.value;
    provenance[m.name] = { unit: m.unit, source: m.source, ...(m.detail ? { detail: m.detail } : {}) };
  }
  return {
    id: t.id, seq: t.seq, arch: t.arch, state: t.state, metrics, provenance,
    ...(t.error ? { error: { name: t.error.name, code: t.error.code, message: t.error.message } } : {}),
    ...(t.durationMs !== undefined ? { durationMs: t.durationMs } : {}),
    ...(t.backend ? { backend: t.backend } : {}),
  };
}

/** Renders rows as an aligned text table. */
export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** A number for a table: few significant digits, no exponent for everyday magnitudes. */
export function formatNumber(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(3);
  return Number(v.toPrecision(5)).toString();
}

/** Renders trials as a table of their metrics. */
export function trialsTable(trials: TrialRecord[], metricNames: string[], label: (arch: unknown) => string): string {
  const headers = ['id', 'seq', 'state', ...metricNames, 'arch'];
  const rows = trials.map((t) => {
    const rec = new Map(t.metrics.map((m) => [m.name, m] as const));
    return [
      String(t.id), String(t.seq), t.state,
      ...metricNames.map((n) => {
        const m = rec.get(n);
        if (!m) return '-';
        return formatNumber(m.value) + (m.source === 'estimated' ? '~' : '');
      }),
      t.state === 'failed' ? `${label(t.arch)}  (${t.error?.message ?? 'failed'})` : label(t.arch),
    ];
  });
  return renderTable(headers, rows);
}
