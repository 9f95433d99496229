/** Reports of a run, read from the store: the comparison table, text/Markdown/CSV tables, and a self-contained HTML page with SVG plots. */
export * from './comparison.js';
export * from './tables.js';
export * from './svg-plot.js';
export * from './run-report.js';
