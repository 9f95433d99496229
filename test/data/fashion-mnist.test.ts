import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { UserError } from '../../src/core/index.js';
import {
  classCounts,
  DEBIAN_FASHION_MNIST_DIR,
  FASHION_MNIST_BASE_URL,
  FASHION_MNIST_FILES,
  loadFashionMnist,
  locateFashionMnist,
  downloadFashionMnist,
  type FashionMnistOptions,
  type FetchLike,
} from '../../src/data/index.js';
import { cyclicLabels, FILES, idxBytes, validFixture, writeFixture, type FixtureSet } from '../fixtures/data/idx-fixtures.js';

const tmp = (label: string) => mkdtempSync(join(tmpdir(), `greennas-${label}-`));
/** Options that keep a test away from the machine's real copies, env and network. */
const isolated = (extra: FashionMnistOptions = {}): FashionMnistOptions => ({
  env: {},
  systemDirs: [],
  cacheDir: tmp('cache'),
  download: false,
  verifyChecksums: false,
  ...extra,
});

async function rejection(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

describe('Fashion-MNIST loader on generated IDX files', () => {
  it('loads splits with the right shapes, stratified validation and untouched test order', async () => {
    const dir = writeFixture(validFixture(200, 50));
    const ds = await loadFashionMnist(isolated({ dataDir: dir, validationSize: 40, seed: 3 }));
    expect(ds.task).toEqual({ dataset: 'fashion-mnist', inputShape: [28, 28, 1], numClasses: 10, kind: 'image' });
    expect(ds.classNames).toHaveLength(10);
    expect(ds.classNames[9]).toBe('Ankle boot');
    expect([ds.train.count, ds.validation.count, ds.test.count]).toEqual([160, 40, 50]);
    expect(ds.train.x).toBeInstanceOf(Uint8Array);
    expect(ds.train.x.length).toBe(160 * 784);
    expect(classCounts(ds.validation, 10)).toEqual(new Array(10).fill(4));
    expect(classCounts(ds.train, 10)).toEqual(new Array(10).fill(16));
    // Train and validation partition the source rows; each row still carries its own label.
    const rows = [...ds.train.sourceIndex, ...ds.validation.sourceIndex].sort((a, b) => a - b);
    expect(rows).toEqual(Array.from({ length: 200 }, (_, i) => i));
    for (const split of [ds.train, ds.validation, ds.test]) {
      for (let k = 0; k < split.count; k++) {
        const src = split.sourceIndex[k]!;
        expect(split.x[k * 784]).toBe(src % 256);
        expect(split.x[k * 784 + 2]).toBe(split.y[k]);
      }
    }
    expect(Array.from(ds.test.sourceIndex)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(ds.provenance.source).toContain('--data-dir');
    expect(ds.provenance.checksumsVerified).toBe(false);
  });

  it('is deterministic for a seed and differs across seeds', async () => {
    const dir = writeFixture(validFixture(200, 20));
    const a = await loadFashionMnist(isolated({ dataDir: dir, seed: 1 }));
    const b = await loadFashionMnist(isolated({ dataDir: dir, seed: 1 }));
    const c = await loadFashionMnist(isolated({ dataDir: dir, seed: 2 }));
    expect(Array.from(a.validation.sourceIndex)).toEqual(Array.from(b.validation.sourceIndex));
    expect(Array.from(a.validation.sourceIndex)).not.toEqual(Array.from(c.validation.sourceIndex));
    expect(a.validation.count).toBe(20); // default validationSize 0.1
  });

  it('takes stratified train and validation subsets and can share memory', async () => {
    const dir = writeFixture(validFixture(400, 20));
    const ds = await loadFashionMnist(isolated({ dataDir: dir, trainSubset: 50, validationSubset: 20, sharedMemory: true }));
    expect(ds.train.count).toBe(50);
    expect(ds.validation.count).toBe(20);
    expect(classCounts(ds.train, 10)).toEqual(new Array(10).fill(5));
    expect(ds.train.x.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(ds.test.y.buffer).toBeInstanceOf(SharedArrayBuffer);
    const e = await rejection(loadFashionMnist(isolated({ dataDir: dir, trainSubset: 5000 })));
    expect(e.subject).toBe('--train-subset');
    expect(e.message).toMatch(/larger than the 360 samples available/);
  });

  it('rejects a validation size that leaves no training data', async () => {
    const dir = writeFixture(validFixture(100, 10));
    const e = await rejection(loadFashionMnist(isolated({ dataDir: dir, validationSize: 100 })));
    expect(e.subject).toBe('--validation-size');
    await expect(loadFashionMnist(isolated({ dataDir: dir, validationSize: 2.5 }))).rejects.toThrow(/fraction in \(0, 1\) or a whole count/);
  });
});

describe('Fashion-MNIST loader on corrupt files', () => {
  const cases: Array<[string, (s: FixtureSet) => void, keyof FixtureSet, RegExp]> = [
    ['bad magic', (s) => { s.trainImages[2] = 0x0d; }, 'trainImages', /element type 0x0d/],
    ['zeroed magic bytes', (s) => { s.testLabels[0] = 0xff; }, 'testLabels', /bad IDX magic number/],
    ['truncated image payload', (s) => { s.testImages = s.testImages.subarray(0, s.testImages.length - 100); }, 'testImages', /truncated/],
    ['label out of range', (s) => { s.trainLabels[8 + 17] = 10; }, 'trainLabels', /label 10 at index 17 is outside 0\.\.9/],
    ['count mismatch', (s) => { s.testLabels = idxBytes([49], cyclicLabels(49)); }, 'testLabels', /holds 49 labels but .* holds 50 images/],
    ['wrong image size', (s) => { s.trainImages = idxBytes([200, 28, 27], new Uint8Array(200 * 28 * 27)); }, 'trainImages', /28×27/],
  ];
  for (const [label, damage, role, pattern] of cases) {
    it(`rejects ${label}, naming ${FILES[role]}`, async () => {
      const set = validFixture(200, 50);
      damage(set);
      const dir = writeFixture(set);
      const e = await rejection(loadFashionMnist(isolated({ dataDir: dir })));
      expect(e.code).toBe('E_DATA_CORRUPT');
      expect(e.message).toContain(FILES[role]);
      expect(e.message).toMatch(pattern);
    });
  }

  it('rejects a gzip file cut short', async () => {
    const set = validFixture(200, 50);
    const dir = writeFixture(set, {});
    const gz = gzipSync(set.trainImages);
    rmSync(join(dir, FILES.trainImages));
    writeFileSync(join(dir, FILES.trainImages + '.gz'), gz.subarray(0, gz.length >> 1));
    const e = await rejection(loadFashionMnist(isolated({ dataDir: dir })));
    expect(e.message).toMatch(/train-images-idx3-ubyte\.gz is corrupt.*gzip/);
  });

  it('rejects well-formed files that are not the official ones when checksums are on', async () => {
    const dir = writeFixture(validFixture(200, 50));
    const e = await rejection(loadFashionMnist(isolated({ dataDir: dir, verifyChecksums: true })));
    expect(e.code).toBe('E_DATA_CHECKSUM');
    expect(e.message).toMatch(/train-images-idx3-ubyte.* is not the official Fashion-MNIST .*SHA-256/);
  });
});

describe('finding the files', () => {
  it('fails on an explicit --data-dir without the files, without looking elsewhere or downloading', async () => {
    const empty = tmp('empty');
    const calls: string[] = [];
    const fetch: FetchLike = async (url) => { calls.push(url); throw new Error('offline'); };
    const e = await rejection(loadFashionMnist({ dataDir: empty, fetch, env: {}, download: true }));
    expect(e.code).toBe('E_DATA_MISSING');
    expect(e.subject).toBe('--data-dir');
    expect(e.message).toContain(empty);
    expect(e.message).toContain('apt install dataset-fashion-mnist');
    expect(e.message).not.toContain(DEBIAN_FASHION_MNIST_DIR + ' (system)');
    expect(calls).toEqual([]);
  });

  it('searches $GREENNAS_DATA, system folders, then the cache, and reports each miss', async () => {
    const envDir = tmp('env');
    const partial = tmp('partial');
    const cache = tmp('cache');
    mkdirSync(join(partial, 'fashion-mnist'));
    const set = validFixture(20, 10);
    const full = writeFixture(set);
    copyFileSync(join(full, FILES.trainLabels), join(partial, 'fashion-mnist', FILES.trainLabels));
    const miss = locateFashionMnist({ env: { GREENNAS_DATA: envDir }, systemDirs: [partial], cacheDir: cache });
    expect(miss.found).toBeUndefined();
    expect(miss.looked).toHaveLength(3);
    expect(miss.looked[0]).toContain('$GREENNAS_DATA');
    expect(miss.looked[1]).toMatch(/fashion-mnist \(system\): missing train-images-idx3-ubyte\[\.gz\], t10k-images/);
    expect(miss.looked[2]).toContain(join(cache, 'fashion-mnist'));
    const hit = locateFashionMnist({ env: { GREENNAS_DATA: envDir }, systemDirs: [partial, full], cacheDir: cache });
    expect(hit.found?.dir).toBe(full);
    expect(hit.found?.origin).toBe('system');
    expect(hit.found?.paths.trainImages).toBe(join(full, FILES.trainImages + '.gz'));
    expect(locateFashionMnist({ env: { GREENNAS_DATA: full }, systemDirs: [], cacheDir: cache }).found?.origin).toBe('$GREENNAS_DATA');
  });

  it('says where it looked and how to supply the files when download is off or fails', async () => {
    const off = await rejection(loadFashionMnist({ env: { GREENNAS_OFFLINE: '1' }, systemDirs: [tmp('sys')], cacheDir: tmp('c') }));
    expect(off.message).toMatch(/Looked in:[\s\S]*\(system\)[\s\S]*\(cache\)[\s\S]*download disabled/);
    expect(off.message).toMatch(/--data-dir DIR or set GREENNAS_DATA/);
    const fetch: FetchLike = async () => { throw new Error('getaddrinfo ENOTFOUND raw.githubusercontent.com'); };
    const failed = await rejection(loadFashionMnist({ env: {}, systemDirs: [], cacheDir: tmp('c'), fetch }));
    expect(failed.message).toMatch(/Download from https:\/\/raw\.githubusercontent\.com.* failed \(download of .* ENOTFOUND/);
  });
});

const haveDebian = FASHION_MNIST_FILES.every((f) => existsSync(join(DEBIAN_FASHION_MNIST_DIR, f.name + '.gz')));
const skipReason = `Debian's dataset-fashion-mnist is not installed (no ${DEBIAN_FASHION_MNIST_DIR}); apt install dataset-fashion-mnist to run these`;

describe.skipIf(!haveDebian)(`downloads into the cache (served from ${DEBIAN_FASHION_MNIST_DIR})`, () => {
  // Serves the Debian copies as if they came from the official URL. Debian re-compressed them, so
  // this also covers the "mirror re-compressed, content still official" path.
  const serve = (tamper = false): { fetch: FetchLike; calls: string[] } => {
    const calls: string[] = [];
    const fetch: FetchLike = async (url) => {
      calls.push(url);
      const name = url.slice(FASHION_MNIST_BASE_URL.length);
      let body = readFileSync(join(DEBIAN_FASHION_MNIST_DIR, name));
      if (tamper) body = gzipSync(Buffer.from('not fashion-mnist'));
      return { ok: true, status: 200, arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer };
    };
    return { fetch, calls };
  };

  it('fetches only missing files, verifies them and stores them', async () => {
    const cache = tmp('dl');
    const dir = join(cache, 'fashion-mnist');
    mkdirSync(dir);
    // Big image files are "already cached", so only the two small label files travel.
    for (const f of ['train-images-idx3-ubyte.gz', 't10k-images-idx3-ubyte.gz']) copyFileSync(join(DEBIAN_FASHION_MNIST_DIR, f), join(dir, f));
    const { fetch, calls } = serve();
    const loc = await downloadFashionMnist({ cacheDir: cache, fetch, env: {} });
    expect(calls).toEqual([`${FASHION_MNIST_BASE_URL}train-labels-idx1-ubyte.gz`, `${FASHION_MNIST_BASE_URL}t10k-labels-idx1-ubyte.gz`]);
    expect(loc.dir).toBe(dir);
    expect(readdirSync(dir).sort()).toEqual(FASHION_MNIST_FILES.map((f) => f.name + '.gz').sort());
    expect(locateFashionMnist({ env: {}, systemDirs: [], cacheDir: cache }).found?.origin).toBe('cache');
  });

  it('refuses a download that does not match the checksums and leaves nothing behind', async () => {
    const cache = tmp('dl-bad');
    const { fetch } = serve(true);
    const e = await rejection(loadFashionMnist({ env: {}, systemDirs: [], cacheDir: cache, fetch }));
    expect(e.code).toBe('E_DATA_CHECKSUM');
    expect(e.message).toMatch(/train-images-idx3-ubyte\.gz does not match the official checksum/);
    expect(readdirSync(join(cache, 'fashion-mnist'))).toEqual([]);
  });
});

describe.skipIf(!haveDebian)('the real Debian Fashion-MNIST files', () => {
  it('loads, verifies checksums and matches known samples', async () => {
    const ds = await loadFashionMnist({ env: {}, download: false, seed: 0, trainSubset: 1000 });
    expect(ds.provenance.checksumsVerified).toBe(true);
    expect(ds.provenance.source).toBe(`${DEBIAN_FASHION_MNIST_DIR} (system)`);
    expect([ds.train.count, ds.validation.count, ds.test.count]).toEqual([1000, 6000, 10000]);
    expect(classCounts(ds.validation, 10)).toEqual(new Array(10).fill(600));
    expect(classCounts(ds.train, 10)).toEqual(new Array(10).fill(100));
    expect(classCounts(ds.test, 10)).toEqual(new Array(10).fill(1000));
    // First labels and one pixel row of the first test image, read independently with Python's gzip + struct.
    expect(Array.from(ds.test.y.subarray(0, 12))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7, 4, 5]);
    expect(Array.from(ds.test.x.subarray(14 * 28, 15 * 28))).toEqual([
      0, 0, 0, 0, 0, 0, 2, 4, 1, 0, 0, 0, 98, 136, 110, 109, 110, 162, 135, 144, 149, 159, 167, 144, 158, 169, 119, 0,
    ]);
    expect(Array.from(ds.test.x.subarray(0, 784)).reduce((a, b) => a + b, 0)).toBe(33456);
  });
});

if (!haveDebian) {
  describe('real Fashion-MNIST files', () => {
    it.skip(skipReason, () => {});
  });
}
