import { existsSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UserError, createRng } from '../core/index.js';
import type { SearchSpace } from './search-space.js';

/*
 * A user's search space is a module passed by path (`--space ./my-space.js`), never registered by an
 * import side effect. JavaScript modules are imported natively. TypeScript modules are loaded through
 * tsx (a dependency of greennas; its scoped `tsImport` compiles the plug-in and the .ts files it
 * imports, mapping `./x.js` specifiers to `./x.ts` as tsc does, without touching other imports); on a
 * Node that strips types itself (22.18+) the native loader is the fallback when tsx is missing. Node
 * 20 cannot import .ts by itself, and TypeScript 7's package has no in-process transpile API.
 */

/** File extensions a plug-in may have. */
export const SPACE_PLUGIN_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'] as const;

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts']);

/** Options of loadSpacePlugin. */
export interface LoadSpacePluginOptions {
  /** The flag or config key the path came from, named in every error (default `--space`). */
  flag?: string;
  /** Directory relative paths are resolved against (default `process.cwd()`). */
  cwd?: string;
  /** Also call the space once (sample, encode/decode, validate, key, mutate) to catch a broken plug-in before any training (default true). */
  exercise?: boolean;
}

const REQUIRED_METHODS: readonly [string, string][] = [
  ['decisions', 'decisions()'],
  ['encode', 'encode(arch)'],
  ['decode', 'decode(choices)'],
  ['validate', 'validate(value)'],
  ['sample', 'sample(rng)'],
  ['mutate', 'mutate(arch, rng)'],
  ['key', 'key(arch)'],
  ['metrics', 'metrics(dataset)'],
];
const OPTIONAL_METHODS = ['crossover', 'evaluate', 'build', 'cost', 'label'] as const;

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * What keeps `value` from being a SearchSpace, one phrase per problem (empty when it fits): missing
 * or mistyped fields and methods, a space that can neither look up nor build, and malformed decisions.
 */
export function searchSpaceProblems(value: unknown): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`it is ${typeName(value)}, not an object`];
  const v = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const field of ['name', 'version', 'description']) {
    if (v[field] === undefined) problems.push(`missing string field \`${field}\``);
    else if (typeof v[field] !== 'string' || v[field] === '') problems.push(`\`${field}\` must be a non-empty string, got ${typeName(v[field])}`);
  }
  const datasets = v['datasets'];
  if (datasets === undefined) problems.push('missing field `datasets` (a non-empty array of dataset ids)');
  else if (!Array.isArray(datasets) || datasets.length === 0 || !datasets.every((d) => typeof d === 'string')) {
    problems.push('`datasets` must be a non-empty array of dataset ids (strings)');
  }
  for (const [method, signature] of REQUIRED_METHODS) {
    if (v[method] === undefined) problems.push(`missing method \`${signature}\``);
    else if (typeof v[method] !== 'function') problems.push(`\`${method}\` must be a method \`${signature}\`, got ${typeName(v[method])}`);
  }
  for (const method of OPTIONAL_METHODS) {
    if (v[method] !== undefined && typeof v[method] !== 'function') problems.push(`\`${method}\` must be a method when present, got ${typeName(v[method])}`);
  }
  if (typeof v['evaluate'] !== 'function' && typeof v['build'] !== 'function') {
    problems.push('missing both `evaluate(arch, context)` (a space that looks results up) and `build(arch, task)` (a space whose models are trained): it needs one');
  }
  if (typeof v['decisions'] === 'function') problems.push(...decisionProblems(v['decisions'] as () => unknown));
  return problems;
}

function decisionProblems(decisions: () => unknown): string[] {
  let list: unknown;
  try {
    list = decisions();
  } catch (err) {
    return [`decisions() threw: ${(err as Error).message}`];
  }
  if (!Array.isArray(list)) return [`decisions() must return an array, got ${typeName(list)}`];
  const problems: string[] = [];
  const names = new Set<string>();
  list.forEach((d: unknown, i) => {
    const rec = d as { name?: unknown; choices?: unknown } | null;
    if (typeof rec?.name !== 'string' || rec.name === '') problems.push(`decisions()[${i}] has no string \`name\``);
    else if (names.has(rec.name)) problems.push(`decisions() names \`${rec.name}\` twice`);
    else names.add(rec.name);
    if (!Array.isArray(rec?.choices) || rec.choices.length === 0) problems.push(`decisions()[${i}] has no non-empty \`choices\` array`);
  });
  return problems;
}

/**
 * Calls a space that fits the contract once with a fixed seed and reports what misbehaves: sample()
 * output that validate() rejects or that does not survive JSON, an encoding of the wrong length, a
 * decode(encode(a)) that is another network, mutate() returning the same network.
 */
export function searchSpaceBehaviourProblems(space: SearchSpace): string[] {
  const problems: string[] = [];
  const rng = createRng('greennas-plugin-check');
  try {
    const count = space.decisions().length;
    for (let i = 0; i < 5; i++) {
      const arch = space.sample(rng);
      const json = JSON.parse(JSON.stringify(arch)) as unknown;
      const key = space.key(arch);
      if (space.key(space.validate(json)) !== key) problems.push('validate() of a sampled architecture sent through JSON gives another key: an architecture must be plain JSON');
      const enc = space.encode(arch);
      if (enc.length !== count) problems.push(`encode() gave ${enc.length} choice indices for ${count} decisions`);
      else if (space.key(space.decode(enc)) !== key) problems.push('decode(encode(arch)) is not the same network as arch (different key)');
      if (space.key(space.mutate(arch, rng)) === key) problems.push('mutate() returned the same network (same key)');
      if (problems.length > 0) break;
    }
  } catch (err) {
    problems.push(`calling it threw: ${(err as Error).message}`);
  }
  return [...new Set(problems)];
}

function resolveModuleFile(absolute: string, shown: string, flag: string): string {
  if (!existsSync(absolute)) {
    throw new UserError(
      `${flag} ${shown}: no such file (looked at ${absolute}). Pass the path of a module (${SPACE_PLUGIN_EXTENSIONS.join(', ')}) ` +
        `that exports a SearchSpace, e.g. ${flag} ./my-space.js, or the name of a built-in space.`,
      { subject: flag },
    );
  }
  if (!statSync(absolute).isDirectory()) return absolute;
  for (const ext of SPACE_PLUGIN_EXTENSIONS) {
    const index = join(absolute, `index${ext}`);
    if (existsSync(index)) return index;
  }
  throw new UserError(
    `${flag} ${shown}: is a folder without an index module (index${SPACE_PLUGIN_EXTENSIONS.join(', index')}). Pass the module file itself.`,
    { subject: flag },
  );
}

async function importTypeScript(url: string, shown: string, flag: string): Promise<Record<string, unknown>> {
  let tsImport: ((specifier: string, parent: string) => Promise<Record<string, unknown>>) | undefined;
  try {
    ({ tsImport } = (await import('tsx/esm/api')) as unknown as { tsImport: typeof tsImport });
  } catch {
    tsImport = undefined;
  }
  if (tsImport) return tsImport(url, import.meta.url);
  if ((process.features as { typescript?: unknown }).typescript) return (await import(url)) as Record<string, unknown>;
  throw new UserError(
    `${flag} ${shown}: cannot load a TypeScript plug-in: this Node (${process.version}) does not strip types and the tsx package ` +
      'is not installed. Compile it first (npx tsc) and pass the .js file, or install tsx (npm install tsx).',
    { subject: flag },
  );
}

function exportedNames(ns: Record<string, unknown>): string {
  const names = Object.keys(ns).sort();
  return names.length === 0 ? 'nothing' : names.map((n) => `\`${n}\``).join(', ');
}

/** The default export, else the named export `space`, looking through one CommonJS/ESM interop wrapper. */
function pickExport(ns: Record<string, unknown>): unknown {
  for (const candidate of [ns['default'], ns['space']]) {
    if (candidate === undefined) continue;
    const inner = candidate as Record<string, unknown> | null;
    // A CommonJS module (or a .ts plug-in compiled as one) arrives as { default: module.exports }.
    if (inner && typeof inner === 'object' && inner['name'] === undefined && (inner['default'] !== undefined || inner['space'] !== undefined)) {
      return inner['default'] ?? inner['space'];
    }
    return candidate;
  }
  return undefined;
}

/**
 * Spaces already loaded in this thread, by file and modification time: a TypeScript plug-in would
 * otherwise be compiled and evaluated again (and tsx would add a loader hook) on every call.
 */
const loaded = new Map<string, SearchSpace>();

/**
 * Loads a user's search space from a module path (relative to `cwd`), checks it against the
 * SearchSpace contract and returns it; a second call for the same unchanged file returns the same
 * object. Every problem is a UserError naming the flag, the file, what is wrong and the fix.
 */
export async function loadSpacePlugin(path: string, options: LoadSpacePluginOptions = {}): Promise<SearchSpace> {
  const flag = options.flag ?? '--space';
  if (typeof path !== 'string' || path.trim() === '') {
    throw new UserError(`${flag} needs a path to a module that exports a SearchSpace, e.g. ${flag} ./my-space.js.`, { subject: flag });
  }
  const file = resolveModuleFile(resolve(options.cwd ?? process.cwd(), path), path, flag);
  const ext = extname(file).toLowerCase();
  if (!(SPACE_PLUGIN_EXTENSIONS as readonly string[]).includes(ext)) {
    throw new UserError(`${flag} ${path}: a plug-in must be a module file (${SPACE_PLUGIN_EXTENSIONS.join(', ')}), got ${ext || 'no extension'}. Pass the module file.`, { subject: flag });
  }
  const exercise = options.exercise ?? true;
  const cacheKey = `${file}@${statSync(file).mtimeMs}${exercise ? '' : ' unchecked'}`;
  const cached = loaded.get(cacheKey);
  if (cached) return cached;
  const url = pathToFileURL(file).href;
  let ns: Record<string, unknown>;
  try {
    ns = TS_EXTENSIONS.has(ext) ? await importTypeScript(url, path, flag) : ((await import(url)) as Record<string, unknown>);
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`${flag} ${path}: the module failed to load: ${(err as Error).message ?? String(err)}. Fix the module (run it with node to see where).`, {
      subject: flag,
      cause: err,
    });
  }
  const space = pickExport(ns);
  if (space === undefined) {
    throw new UserError(
      `${flag} ${path}: the module exports no search space: expected \`export default\` or \`export const space\`; it exports ${exportedNames(ns)}.`,
      { subject: flag },
    );
  }
  const problems = searchSpaceProblems(space);
  if (problems.length > 0) {
    throw new UserError(`${flag} ${path}: the exported value is not a SearchSpace: ${problems.join('; ')}. Add what is missing (the contract is SearchSpace in greennas's space module).`, {
      subject: flag,
    });
  }
  if (exercise) {
    const misbehaviour = searchSpaceBehaviourProblems(space as SearchSpace);
    if (misbehaviour.length > 0) {
      throw new UserError(`${flag} ${path}: the search space misbehaves: ${misbehaviour.join('; ')}. Fix the space's methods.`, { subject: flag });
    }
  }
  loaded.set(cacheKey, space as SearchSpace);
  return space as SearchSpace;
}
