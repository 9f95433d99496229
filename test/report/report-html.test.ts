import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildRunReport, reportHtml, type CarbonBasis } from '../../src/report/index.js';
import { fakeRun, fakeTrial } from './fixtures.js';

const carbon: CarbonBasis = { intensityGPerKwh: 300, pue: 1.2, source: 'test grid' };
/** Screenshots and pages of this test land here (runs/ is git-ignored). */
const OUTPUT_DIR = fileURLToPath(new URL('../../runs/test-output/report/', import.meta.url));
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const NASTY = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned=2">"&'`;

function report() {
  const trials = [
    fakeTrial({ accuracy: 0.81, 'latency.cpu': 3, 'energy.train': 40, params: 2e4, macs: 3e6, 'train.seconds': 10, 'energy.infer': 0.01 }, { arch: { name: NASTY } }),
    fakeTrial({ accuracy: 0.7, 'latency.cpu': 1.5, 'energy.train': 20, params: 1e4, macs: 1e6, 'train.seconds': 6 }, { arch: { name: 'small' } }),
    fakeTrial({ accuracy: 0.6, 'latency.cpu': 4, 'energy.train': 60 }, { arch: { name: 'dominated' } }),
    fakeTrial({}, { state: 'failed', arch: { name: 'failed' } }),
    fakeTrial({ accuracy: 0.79, 'latency.cpu': 2.5, 'energy.train': 35, params: 5e3, macs: 3e6 }, { kind: 'compressed', arch: { name: 'small-int8' } }),
    fakeTrial({ accuracy: 0.85, 'latency.cpu': 9, 'energy.train': 90, params: 5e5, macs: 2e6, 'train.seconds': 20, 'energy.infer': 0.04 }, { kind: 'baseline', arch: { name: 'resnet50 proxy' } }),
  ];
  const label = (t: { arch: unknown }) => (t.arch as { name: string }).name;
  return buildRunReport({ run: fakeRun({ space: `mobilenet${NASTY}` }), trials, frontIds: [trials[0]!.id, trials[1]!.id], carbon, label });
}

describe('report HTML', () => {
  it('is one self-contained page: inline SVG, no script, no external reference, data escaped', () => {
    const html = reportHtml(report());
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:|\/\/)/i);
    expect(html).not.toMatch(/<img /i);
    expect(html).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;');
    expect((html.match(/<svg /g) ?? []).length).toBe(3);
  });

  it.skipIf(!CHROMIUM)(`renders the plots and the comparison table in headless Chromium${CHROMIUM ? '' : ' (skipped: no chromium binary; .ci/run installs Debian\'s chromium)'}`, async () => {
    const { chromium } = await import('playwright-core');
    mkdirSync(OUTPUT_DIR, { recursive: true });
    const page$ = `${OUTPUT_DIR}report.html`;
    writeFileSync(page$, reportHtml(report()));
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const external: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) external.push(r.url());
      });
      await page.goto(pathToFileURL(page$).href);
      const plots = await page.locator('svg.plot').count();
      const points = await page.locator('svg.plot .point').count();
      const bars = await page.locator('svg.plot .bar').count();
      const rows = await page.locator('table#comparison tbody tr').count();
      const box = await page.locator('svg.plot').first().boundingBox();
      const firstCell = await page.locator('table#comparison tbody tr td').first().textContent();
      const pwned = await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned);
      await page.screenshot({ path: `${OUTPUT_DIR}report.png`, fullPage: true });
      expect(external).toEqual([]);
      expect(plots).toBe(3);
      // 5 complete trials with accuracy and latency on each of the two scatter plots, legend markers aside.
      expect(points).toBeGreaterThanOrEqual(10);
      expect(bars).toBe(3);
      expect(rows).toBe(4);
      expect(box!.width).toBeGreaterThan(300);
      expect(box!.height).toBeGreaterThan(200);
      expect(firstCell).toBe(`${NASTY}`);
      expect(pwned).toBeUndefined();
      expect(existsSync(`${OUTPUT_DIR}report.png`)).toBe(true);
    } finally {
      await browser.close();
    }
  }, 120_000);
});
