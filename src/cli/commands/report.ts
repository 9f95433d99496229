import { writeFileSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import { createStderrLogger, UserError } from '../../core/index.js';
import { comparisonNotes, comparisonTable, deltaTable, renderText, reportCsv, reportHtml, reportMarkdown } from '../../report/index.js';
import { commonOptions } from '../options.js';
import { loadRunReport } from '../report-source.js';
import { openExistingStore, parseRunId, withStore } from '../store-access.js';

interface ReportArgs {
  'run-id'?: string;
  db: string;
  html?: string;
  md?: string;
  csv?: string;
  verbose: boolean;
}

function write(path: string, text: string, flag: string): void {
  try {
    writeFileSync(path, text);
  } catch (err) {
    throw new UserError(`${flag} ${path}: cannot write the file (${(err as Error).message}). Fix: pass a path in a folder that exists and is writable.`, { subject: flag });
  }
}

/** `greennas report RUN_ID`: the run's report as one self-contained HTML page, Markdown or CSV (the tables on stdout when no file is named). */
export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <run-id>',
  describe: "Write a run's report: Pareto plots, comparison table, energy per trial, settings (HTML, Markdown, CSV)",
  builder: (y) => y.positional('run-id', { describe: 'Run id (see greennas runs)', type: 'string' })
    .options({
      html: { type: 'string', describe: 'Write one self-contained HTML file here (inline SVG plots, no network)', requiresArg: true },
      md: { type: 'string', describe: 'Write the tables as Markdown here', requiresArg: true },
      csv: { type: 'string', describe: 'Write the comparison as CSV here (raw numbers, SI units)', requiresArg: true },
      db: commonOptions.db, verbose: commonOptions.verbose,
    }) as never,
  handler: async (args) => {
    const runId = parseRunId(args['run-id']);
    const logger = createStderrLogger({ verbose: args.verbose, quiet: false });
    await withStore(await openExistingStore(args.db), async (store) => {
      const report = await loadRunReport(store, runId, args.db);
      const outputs: [string | undefined, string, () => string][] = [[args.html, '--html', () => reportHtml(report)], [args.md, '--md', () => reportMarkdown(report)], [args.csv, '--csv', () => reportCsv(report)]];
      let wrote = false;
      for (const [path, flag, render] of outputs) {
        if (path === undefined) continue;
        write(path, render(), flag);
        logger.info(`wrote ${path}`);
        wrote = true;
      }
      if (!wrote) {
        process.stdout.write(renderText(comparisonTable(report.comparison)));
        if (report.comparison.deltas.length) process.stdout.write(`\n${renderText(deltaTable(report.comparison))}`);
        process.stdout.write('\n' + comparisonNotes(report.comparison).map((n) => `${n}\n`).join(''));
      }
    });
  },
};
