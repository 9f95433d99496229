import { spawnSync } from 'node:child_process';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { UserError, createRng } from '../../src/core/index.js';
import { loadSpacePlugin, searchSpaceBehaviourProblems, searchSpaceProblems, type SearchSpace } from '../../src/space/index.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, 'fixtures');
const repoRoot = join(here, '..', '..');

async function loadError(path: string, options: Parameters<typeof loadSpacePlugin>[1] = {}): Promise<UserError> {
  try {
    await loadSpacePlugin(path, { cwd: fixtures, ...options });
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error(`loading ${path} did not fail`);
}

describe('loadSpacePlugin', () => {
  it('loads a JavaScript ES module default export and the space works', async () => {
    const space = await loadSpacePlugin('./good-space.mjs', { cwd: fixtures });
    expect(space.name).toBe('js-grid');
    const arch = space.sample(createRng(1));
    expect(space.decode(space.encode(arch))).toEqual(arch);
  });

  it('loads a CommonJS module whose module.exports is the space', async () => {
    expect((await loadSpacePlugin('good-space.cjs', { cwd: fixtures })).name).toBe('cjs-depth');
  });

  it('loads a TypeScript plug-in (types, interfaces, a relative .js→.ts import, the public space surface) by its named export `space`', async () => {
    const space = await loadSpacePlugin('./good-space.ts', { cwd: fixtures });
    expect(space.name).toBe('ts-kernel');
    expect(space.decisions()).toEqual([{ name: 'kernel', choices: [3, 5, 7] }]);
    expect(() => space.validate({ kernel: 4 })).toThrow(/arch\.kernel must be one of 3, 5, 7; got 4/);
  });

  it('returns the same space for the same file on a second load', async () => {
    const first = await loadSpacePlugin('./good-space.ts', { cwd: fixtures });
    expect(await loadSpacePlugin(join(fixtures, 'good-space.ts'))).toBe(first);
  });

  it('loads a folder through its index module, and absolute paths', async () => {
    expect((await loadSpacePlugin('folder-space', { cwd: fixtures })).name).toBe('js-grid');
    expect((await loadSpacePlugin(join(fixtures, 'good-space.mjs'))).name).toBe('js-grid');
  });

  it('loads the built-in spaces as plug-ins from their source files', async () => {
    for (const [path, name] of [
      ['search-spaces/mobilenet/index.ts', 'mobilenet'],
      ['search-spaces/transformer/index.ts', 'transformer'],
    ] as const) {
      const space = await loadSpacePlugin(path, { cwd: repoRoot });
      expect(space.name).toBe(name);
      expect(typeof space.build).toBe('function');
      expect(typeof space.cost).toBe('function');
    }
  }, 30_000);

  it('names the flag, the path and the fix when the file does not exist', async () => {
    const err = await loadError('./nope.js');
    expect(err.subject).toBe('--space');
    expect(err.message).toMatch(/^--space \.\/nope\.js: no such file \(looked at .*nope\.js\)\. Pass the path of a module/);
    expect(err.message).toContain('e.g. --space ./my-space.js');
    const custom = await loadError('./nope.js', { flag: 'space (config)' });
    expect(custom.message).toMatch(/^space \(config\) \.\/nope\.js: no such file/);
    expect((await loadError('  ')).message).toMatch(/--space needs a path/);
  });

  it('rejects a folder without an index and a file that is not a module', async () => {
    expect((await loadError('.', { cwd: join(fixtures, '..', '..') })).message).toMatch(/is a folder without an index module/);
    expect((await loadError('not-a-module.json')).message).toMatch(/must be a module file .* got \.json/);
  });

  it('names every missing or mistyped part of the contract', async () => {
    const err = await loadError('missing-parts.mjs');
    expect(err.message).toMatch(/^--space missing-parts\.mjs: the exported value is not a SearchSpace: /);
    expect(err.message).toContain('missing string field `version`');
    expect(err.message).toContain('missing method `mutate(arch, rng)`');
    expect(err.message).toContain('`key` must be a method `key(arch)`, got a string');
    expect(err.message).toContain('missing both `evaluate(arch, context)`');
    expect(err.message).not.toContain('`name`');
    expect(err.message).not.toContain('decode');
  });

  it('says what a module exports when none of it is a space', async () => {
    expect((await loadError('no-space-export.mjs')).message).toMatch(
      /exports no search space: expected `export default` or `export const space`; it exports `helper`, `mySpace`\./,
    );
  });

  it('reports malformed decisions and datasets', async () => {
    const message = (await loadError('bad-decisions.mjs')).message;
    expect(message).toContain('`datasets` must be a non-empty array');
    expect(message).toContain('decisions() names `a` twice');
    expect(message).toContain('decisions()[1] has no non-empty `choices` array');
  });

  it('reports a module that fails to load as a UserError with the cause', async () => {
    const err = await loadError('syntax-error.mjs');
    expect(err.message).toMatch(/^--space syntax-error\.mjs: the module failed to load: .+\. Fix the module/);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('works under plain Node outside the test runner: JS natively, TS through tsx, errors as UserErrors', () => {
    // Vitest routes dynamic imports through its own module runner, so check Node's own loader once.
    const script = `
      import { loadSpacePlugin } from './src/space/index.ts';
      const out = {};
      for (const p of ['good-space.mjs', 'good-space.ts', 'good-space.cjs', 'syntax-error.mjs', 'nope.mjs']) {
        try { out[p] = (await loadSpacePlugin(p, { cwd: ${JSON.stringify(fixtures)} })).name; }
        catch (e) { out[p] = { name: e.name, code: e.code, message: e.message, cause: e.cause?.name }; }
      }
      console.log(JSON.stringify(out));`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repoRoot, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    const out = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
    expect(out['good-space.mjs']).toBe('js-grid');
    expect(out['good-space.ts']).toBe('ts-kernel');
    expect(out['good-space.cjs']).toBe('cjs-depth');
    expect(out['syntax-error.mjs']).toMatchObject({ name: 'UserError', code: 'E_USER', cause: 'SyntaxError' });
    expect(out['nope.mjs']).toMatchObject({ name: 'UserError', message: expect.stringMatching(/^--space nope\.mjs: no such file/) });
  }, 60_000);

  it('loads JavaScript and TypeScript plug-ins inside a worker thread, where trainer workers load them', async () => {
    const worker = new Worker(join(fixtures, 'load-in-worker.mjs'), {
      workerData: { loader: pathToFileURL(join(repoRoot, 'src/space/index.ts')).href, cwd: fixtures, plugins: ['good-space.ts', 'good-space.mjs'] },
    });
    try {
      const names = await new Promise((resolveMessage, reject) => {
        worker.once('message', resolveMessage);
        worker.once('error', reject);
      });
      expect(names).toEqual(['ts-kernel', 'js-grid']);
    } finally {
      await worker.terminate();
    }
  }, 60_000);

  it('exercises the space once and names what misbehaves, unless told not to', async () => {
    const message = (await loadError('misbehaving.mjs')).message;
    expect(message).toContain('the search space misbehaves');
    expect(message).toContain('encode() gave 1 choice indices for 2 decisions');
    expect(message).toContain('mutate() returned the same network');
    expect((await loadSpacePlugin('misbehaving.mjs', { cwd: fixtures, exercise: false })).name).toBe('misbehaving');
  });
});

describe('contract checks on objects', () => {
  it('accepts the built-in spaces and refuses non-objects', async () => {
    const { mobilenetSpace } = await import('../../search-spaces/mobilenet/index.js');
    const { transformerSpace } = await import('../../search-spaces/transformer/index.js');
    for (const space of [mobilenetSpace, transformerSpace] as SearchSpace[]) {
      expect(searchSpaceProblems(space)).toEqual([]);
      expect(searchSpaceBehaviourProblems(space)).toEqual([]);
    }
    expect(searchSpaceProblems(() => 1)).toEqual(['it is a function, not an object']);
    expect(searchSpaceProblems([])).toEqual(['it is an array, not an object']);
  });

  it('keeps fixture paths relative to the repository in messages as given', async () => {
    const shown = relative(process.cwd(), join(fixtures, 'nope.mjs'));
    expect((await loadError(shown, { cwd: process.cwd() })).message.startsWith(`--space ${shown}: no such file`)).toBe(true);
  });
});
