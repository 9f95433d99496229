/*
 * Inline SVG charts written by hand, so a report is one self-contained file: no script, no CDN, no
 * fetch. Every text that comes from data is escaped.
 */

/** Escapes text for HTML/SVG element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] as string);
}

/** One point of a scatter plot. */
export interface PlotPoint {
  /** Position on the x axis, in the axis unit. */
  x: number;
  /** Position on the y axis. */
  y: number;
  /** Tooltip text (architecture label and values). */
  label: string;
  /** Series the point belongs to (one colour per series). */
  series: string;
}

/** A series' look. */
export interface SeriesStyle {
  /** Fill colour. */
  color: string;
  /** Marker: circle, square or diamond. */
  shape: 'circle' | 'square' | 'diamond';
  /** Join the series' points with a line in x order (for a front). */
  line?: boolean;
}

/** Options of scatterSvg. */
export interface ScatterOptions {
  /** Accessible title. */
  title: string;
  /** Axis labels (with units). */
  xLabel: string;
  yLabel: string;
  /** Logarithmic x axis (latency and energy span orders of magnitude). */
  logX?: boolean;
  /** Style per series name, in legend order. */
  series: Record<string, SeriesStyle>;
  /** Pixel size. */
  width?: number;
  height?: number;
}

const MARGIN = { left: 64, right: 16, top: 28, bottom: 52 };

function niceTicks(lo: number, hi: number, count: number): number[] {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks.length >= 2 ? ticks : [lo, hi];
}

function tickLabel(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3) return v.toExponential(0);
  return Number(v.toPrecision(3)).toString();
}

function marker(shape: SeriesStyle['shape'], x: number, y: number, color: string, title: string): string {
  const t = `<title>${escapeHtml(title)}</title>`;
  const f = `fill="${color}" stroke="#222" stroke-width="0.6"`;
  if (shape === 'square') return `<rect class="point" x="${(x - 4.5).toFixed(1)}" y="${(y - 4.5).toFixed(1)}" width="9" height="9" ${f}>${t}</rect>`;
  if (shape === 'diamond') return `<path class="point" d="M${x.toFixed(1)} ${(y - 6).toFixed(1)}l6 6l-6 6l-6 -6z" ${f}>${t}</path>`;
  return `<circle class="point" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4.5" ${f}>${t}</circle>`;
}

/** A scatter plot as an inline SVG element; points with non-finite (or, on a log axis, non-positive) coordinates are left out. */
export function scatterSvg(points: readonly PlotPoint[], o: ScatterOptions): string {
  const width = o.width ?? 560;
  const height = o.height ?? 360;
  const usable = points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!o.logX || p.x > 0));
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const head = `<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><title>${escapeHtml(o.title)}</title>`;
  const frame = `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeHtml(o.title)}</text>`;
  if (usable.length === 0) return `${head}${frame}<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no data</text></svg>`;
  const xs = usable.map((p) => (o.logX ? Math.log10(p.x) : p.x));
  const ys = usable.map((p) => p.y);
  const pad = (lo: number, hi: number) => (hi > lo ? [lo - (hi - lo) * 0.05, hi + (hi - lo) * 0.05] : [lo - 0.5 * (Math.abs(lo) || 1), hi + 0.5 * (Math.abs(hi) || 1)]);
  const [x0, x1] = pad(Math.min(...xs), Math.max(...xs)) as [number, number];
  const [y0, y1] = pad(Math.min(...ys), Math.max(...ys)) as [number, number];
  const sx = (v: number) => MARGIN.left + ((o.logX ? Math.log10(v) : v) - x0) / (x1 - x0) * plotW;
  const sy = (v: number) => MARGIN.top + plotH - (v - y0) / (y1 - y0) * plotH;
  const parts: string[] = [head, frame];
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#888"/>`);
  const xt = o.logX ? logTicks(10 ** x0, 10 ** x1) : niceTicks(x0, x1, 6);
  for (const v of xt) {
    const x = sx(v);
    parts.push(`<line x1="${x.toFixed(1)}" y1="${MARGIN.top}" x2="${x.toFixed(1)}" y2="${MARGIN.top + plotH}" stroke="#e4e4e4"/>`,
      `<text x="${x.toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle" font-size="11">${tickLabel(v)}</text>`);
  }
  for (const v of niceTicks(y0, y1, 6)) {
    const y = sy(v);
    parts.push(`<line x1="${MARGIN.left}" y1="${y.toFixed(1)}" x2="${MARGIN.left + plotW}" y2="${y.toFixed(1)}" stroke="#e4e4e4"/>`,
      `<text x="${MARGIN.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${tickLabel(v)}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 12}" text-anchor="middle" font-size="12">${escapeHtml(o.xLabel)}</text>`,
    `<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeHtml(o.yLabel)}</text>`);
  const names = Object.keys(o.series);
  for (const name of names) {
    const style = o.series[name]!;
    const own = usable.filter((p) => p.series === name);
    if (style.line && own.length > 1) {
      const path = [...own].sort((a, b) => a.x - b.x).map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)} ${sy(p.y).toFixed(1)}`).join(' ');
      parts.push(`<path d="${path}" fill="none" stroke="${style.color}" stroke-width="1.5"/>`);
    }
    for (const p of own) parts.push(marker(style.shape, sx(p.x), sy(p.y), style.color, p.label));
  }
  let lx = MARGIN.left + 8;
  for (const name of names.filter((n) => usable.some((p) => p.series === n))) {
    const style = o.series[name]!;
    parts.push(marker(style.shape, lx, MARGIN.top + 10, style.color, name), `<text x="${lx + 9}" y="${MARGIN.top + 14}" font-size="11">${escapeHtml(name)}</text>`);
    lx += 26 + name.length * 6.5;
  }
  parts.push('</svg>');
  return parts.join('');
}

/** One bar of a bar chart. */
export interface Bar {
  /** Category label under the bar (e.g. the trial's position). */
  x: string;
  /** Height, in the axis unit. */
  y: number;
  /** Tooltip. */
  label: string;
  /** Fill colour. */
  color: string;
}

/** A bar chart as an inline SVG element (non-finite bars are left out). */
export function barSvg(bars: readonly Bar[], o: { title: string; xLabel: string; yLabel: string; width?: number; height?: number }): string {
  const width = o.width ?? Math.max(560, Math.min(1100, 60 + bars.length * 14));
  const height = o.height ?? 300;
  const usable = bars.filter((b) => Number.isFinite(b.y) && b.y >= 0);
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" class="plot" role="img" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><title>${escapeHtml(o.title)}</title>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">${escapeHtml(o.title)}</text>`];
  if (usable.length === 0) return `${parts.join('')}<text x="${width / 2}" y="${height / 2}" text-anchor="middle">no data</text></svg>`;
  const top = Math.max(...usable.map((b) => b.y)) * 1.05 || 1;
  const slot = plotW / usable.length;
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="#fafafa" stroke="#888"/>`);
  for (const v of niceTicks(0, top, 5)) {
    const y = MARGIN.top + plotH - (v / top) * plotH;
    parts.push(`<line x1="${MARGIN.left}" y1="${y.toFixed(1)}" x2="${MARGIN.left + plotW}" y2="${y.toFixed(1)}" stroke="#e4e4e4"/>`,
      `<text x="${MARGIN.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" font-size="11">${tickLabel(v)}</text>`);
  }
  const every = Math.max(1, Math.ceil(usable.length / 25));
  usable.forEach((b, i) => {
    const h = (b.y / top) * plotH;
    const x = MARGIN.left + i * slot + slot * 0.15;
    parts.push(`<rect class="bar" x="${x.toFixed(1)}" y="${(MARGIN.top + plotH - h).toFixed(1)}" width="${(slot * 0.7).toFixed(1)}" height="${h.toFixed(1)}" fill="${b.color}"><title>${escapeHtml(b.label)}</title></rect>`);
    if (i % every === 0) parts.push(`<text x="${(x + slot * 0.35).toFixed(1)}" y="${MARGIN.top + plotH + 14}" text-anchor="middle" font-size="10">${escapeHtml(b.x)}</text>`);
  });
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 12}" text-anchor="middle" font-size="12">${escapeHtml(o.xLabel)}</text>`,
    `<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12">${escapeHtml(o.yLabel)}</text>`, '</svg>');
  return parts.join('');
}
