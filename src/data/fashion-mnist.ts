import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createRng, UserError, type Logger, silentLogger } from '../core/index.js';
import type { CommonDatasetOptions, Dataset } from './dataset.js';
import { corrupt, parseIdx, readMaybeGzipped } from './idx.js';
import { gatherSplit, resolveSize, stratifiedPartition, subsetSplit } from './splits.js';

/** Registry id of Fashion-MNIST. */
export const FASHION_MNIST_ID = 'fashion-mnist';

/** Fashion-MNIST class names, indexed by label (from the dataset's README). */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
];

/** Where Debian's `dataset-fashion-mnist` package installs the gzipped IDX files. */
export const DEBIAN_FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Where the official repository serves the files (raw GitHub URLs of zalandoresearch/fashion-mnist). */
export const FASHION_MNIST_BASE_URL = 'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/';

/** The four files of the official distribution and their checksums. */
export interface FashionMnistFile {
  /** Role of the file in the loader. */
  role: 'trainImages' | 'trainLabels' | 'testImages' | 'testLabels';
  /** File name without `.gz`. */
  name: string;
  /** Samples the file holds. */
  count: number;
  /** MD5 of the `.gz` as published in the official README (a mirror that re-compresses changes it). */
  gzipMd5: string;
  /** MD5 of the decompressed IDX file (as torchvision lists it); matches Debian's re-compressed copies. */
  rawMd5: string;
  /** SHA-256 of the decompressed IDX file, computed from files whose rawMd5 matched; what the loader checks. */
  rawSha256: string;
}

/**
 * The official files. Checks run on the decompressed content because Debian re-compressed the
 * archives (its `.gz` MD5s differ from the README's while the IDX payloads are byte-identical).
 */
export const FASHION_MNIST_FILES: readonly FashionMnistFile[] = [
  {
    role: 'trainImages', name: 'train-images-idx3-ubyte', count: 60000,
    gzipMd5: '8d4fb7e6c68d591d4c3dfef9ec88bf0d', rawMd5: 'f4a8712d7a061bf5bd6d2ca38dc4d50a',
    rawSha256: 'c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888',
  },
  {
    role: 'trainLabels', name: 'train-labels-idx1-ubyte', count: 60000,
    gzipMd5: '25c81989df183df01b3e8a0aad5dffbe', rawMd5: '9018921c3c673c538a1fc5bad174d6f9',
    rawSha256: 'bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9',
  },
  {
    role: 'testImages', name: 't10k-images-idx3-ubyte', count: 10000,
    gzipMd5: 'bef4ecab320f06d8554ea6380940ec79', rawMd5: '8181f5470baa50b63fa0f6fddb340f0a',
    rawSha256: '5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b',
  },
  {
    role: 'testLabels', name: 't10k-labels-idx1-ubyte', count: 10000,
    gzipMd5: 'bb300cfdad3c16e7a12a480ee83cd310', rawMd5: '15d484375f8d13e6eb1aabb0c3f46965',
    rawSha256: '0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34',
  },
];

const IMAGE_SIDE = 28;
const NUM_CLASSES = 10;

/** Minimal fetch signature, so tests (and offline mirrors) can supply their own. */
export type FetchLike = (url: string, init?: { signal?: AbortSignal }) => Promise<{
  ok: boolean;
  status: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}>;

/** Options of the Fashion-MNIST loader. */
export interface FashionMnistOptions extends CommonDatasetOptions {
  /** Folder holding the four files (or a `fashion-mnist/` folder with them); when given, the only place looked. */
  dataDir?: string;
  /** Environment to read `GREENNAS_DATA`, `XDG_CACHE_HOME` and `GREENNAS_OFFLINE` from (default process.env). */
  env?: Record<string, string | undefined>;
  /** System folders to look in (default Debian's `/usr/share/datasets/fashion-mnist`). */
  systemDirs?: string[];
  /** Cache root; files live in `<cacheDir>/fashion-mnist` (default `$XDG_CACHE_HOME/greennas` or `~/.cache/greennas`). */
  cacheDir?: string;
  /** Try downloading into the cache when no local copy exists (default true unless GREENNAS_OFFLINE=1). */
  download?: boolean;
  /** Fetch implementation for downloads (default the global fetch). */
  fetch?: FetchLike;
  /** Per-file download timeout in milliseconds (default 60000). */
  downloadTimeoutMs?: number;
  /** Check the decompressed files against the official SHA-256s (default true; off for hand-made fixtures). */
  verifyChecksums?: boolean;
  /** Progress messages (default silent). */
  logger?: Logger;
}

/** A folder found to hold all four files, and how it was found. */
export interface FashionMnistLocation {
  /** Folder holding the files. */
  dir: string;
  /** Path of each file (raw preferred over `.gz` when both exist). */
  paths: Record<FashionMnistFile['role'], string>;
  /** How the folder was found: `--data-dir`, `$GREENNAS_DATA`, `system`, `cache`, `download`. */
  origin: string;
}

/** Default cache root: `$XDG_CACHE_HOME/greennas`, else `~/.cache/greennas`. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'greennas');
}

/** Looks for the four files in `dir` and `dir/fashion-mnist`; says what is missing when incomplete. */
function probeDir(dir: string): { paths?: FashionMnistLocation['paths']; dir: string; why?: string } {
  let best: { dir: string; why: string } | undefined;
  for (const candidate of [dir, join(dir, FASHION_MNIST_ID)]) {
    if (!isDir(candidate)) {
      best ??= { dir: candidate, why: 'no such folder' };
      continue;
    }
    const paths: Partial<FashionMnistLocation['paths']> = {};
    const missing: string[] = [];
    for (const f of FASHION_MNIST_FILES) {
      const raw = join(candidate, f.name);
      const gz = raw + '.gz';
      if (isFile(raw)) paths[f.role] = raw;
      else if (isFile(gz)) paths[f.role] = gz;
      else missing.push(f.name + '[.gz]');
    }
    if (missing.length === 0) return { dir: candidate, paths: paths as FashionMnistLocation['paths'] };
    if (missing.length < FASHION_MNIST_FILES.length || !best || best.why === 'no such folder') {
      best = { dir: candidate, why: `missing ${missing.join(', ')}` };
    }
  }
  return best ?? { dir, why: 'no such folder' };
}

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}

function isFile(p: string): boolean {
  try { return statSync(p).isFile(); } catch { return false; }
}

/**
 * Finds the files without reading them: `dataDir` alone when given (an explicit folder that lacks
 * the files is an error, not a reason to quietly use another copy); otherwise `$GREENNAS_DATA`, the
 * system folders, then the cache. Returns the first complete folder and the reasons each other one failed.
 */
export function locateFashionMnist(options: FashionMnistOptions = {}): { found?: FashionMnistLocation; looked: string[] } {
  const env = options.env ?? process.env;
  const candidates: Array<{ dir: string; origin: string }> = [];
  if (options.dataDir !== undefined) {
    candidates.push({ dir: options.dataDir, origin: '--data-dir' });
  } else {
    if (env.GREENNAS_DATA) candidates.push({ dir: env.GREENNAS_DATA, origin: '$GREENNAS_DATA' });
    for (const d of options.systemDirs ?? [DEBIAN_FASHION_MNIST_DIR]) candidates.push({ dir: d, origin: 'system' });
    candidates.push({ dir: join(options.cacheDir ?? defaultCacheDir(env), FASHION_MNIST_ID), origin: 'cache' });
  }
  const looked: string[] = [];
  for (const c of candidates) {
    const probe = probeDir(c.dir);
    if (probe.paths) return { found: { dir: probe.dir, paths: probe.paths, origin: c.origin }, looked };
    looked.push(`${probe.dir} (${c.origin}): ${probe.why}`);
  }
  return { looked };
}

function md5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Downloads the four files into `<cacheDir>/fashion-mnist`, checking each against the official
 * checksums before it is moved into place, so a failed or tampered download never lands in the cache.
 */
export async function downloadFashionMnist(options: FashionMnistOptions = {}): Promise<FashionMnistLocation> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? silentLogger;
  const fetchImpl: FetchLike = options.fetch ?? (globalThis.fetch as unknown as FetchLike);
  const dir = join(options.cacheDir ?? defaultCacheDir(env), FASHION_MNIST_ID);
  await mkdir(dir, { recursive: true });
  const paths: Partial<FashionMnistLocation['paths']> = {};
  for (const f of FASHION_MNIST_FILES) {
    const target = join(dir, f.name + '.gz');
    paths[f.role] = target;
    if (isFile(target)) continue;
    const url = FASHION_MNIST_BASE_URL + f.name + '.gz';
    logger.info(`downloading ${url}`);
    let body: Uint8Array;
    try {
      const res = await fetchImpl(url, { signal: AbortSignal.timeout(options.downloadTimeoutMs ?? 60_000) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = new Uint8Array(await res.arrayBuffer());
    } catch (err) {
      throw new Error(`download of ${url} failed: ${(err as Error).message}`, { cause: err });
    }
    if (md5(body) !== f.gzipMd5) {
      // A mirror may re-compress; accept it when the content is the official one.
      let content: Uint8Array | undefined;
      try { content = gunzipSync(body); } catch { content = undefined; }
      if (!content || sha256(content) !== f.rawSha256) {
        throw new UserError(
          `Downloaded ${url} does not match the official checksum (MD5 ${md5(body)}, expected ${f.gzipMd5}); ` +
            `it was not saved. Retry later, or install the files with apt install dataset-fashion-mnist.`,
          { subject: url, code: 'E_DATA_CHECKSUM' },
        );
      }
    }
    const partial = `${target}.part-${process.pid}`;
    await writeFile(partial, body);
    await rename(partial, target).catch(async (err) => {
      await rm(partial, { force: true });
      throw err;
    });
  }
  return { dir, paths: paths as FashionMnistLocation['paths'], origin: 'download' };
}

/** Finds the files, downloading them only when allowed, or fails saying where it looked and what to do. */
export async function resolveFashionMnist(options: FashionMnistOptions = {}): Promise<FashionMnistLocation> {
  const env = options.env ?? process.env;
  const { found, looked } = locateFashionMnist(options);
  if (found) return found;
  const explicit = options.dataDir !== undefined;
  const allowDownload = !explicit && (options.download ?? env.GREENNAS_OFFLINE !== '1');
  let downloadError = '';
  if (allowDownload) {
    try {
      return await downloadFashionMnist(options);
    } catch (err) {
      if (err instanceof UserError) throw err;
      downloadError = ` Download from ${FASHION_MNIST_BASE_URL} failed (${(err as Error).message}).`;
    }
  }
  const where = looked.map((l) => `  - ${l}`).join('\n');
  const names = FASHION_MNIST_FILES.map((f) => f.name + '.gz').join(', ');
  throw new UserError(
    `Fashion-MNIST files not found. Looked in:\n${where}\n${downloadError}` +
      `${allowDownload ? '' : explicit ? ' (no download with an explicit --data-dir.)' : ' (download disabled.)'}\n` +
      `Fix: apt install dataset-fashion-mnist (installs them in ${DEBIAN_FASHION_MNIST_DIR}), ` +
      `or put the four files (${names}, gzipped or not) in a folder and pass --data-dir DIR or set GREENNAS_DATA.`,
    { subject: explicit ? '--data-dir' : FASHION_MNIST_ID, code: 'E_DATA_MISSING' },
  );
}

/**
 * Loads Fashion-MNIST: the official 60 000 / 10 000 train/test split, a seeded stratified validation
 * split taken from train (default 10 %), optional stratified subsets. Images stay uint8 (784 bytes
 * each, shape 28×28×1); the batch iterator scales them to [0, 1]. Every file is fully validated
 * before anything is returned.
 */
export async function loadFashionMnist(options: FashionMnistOptions = {}): Promise<Dataset> {
  const location = await resolveFashionMnist(options);
  const logger = options.logger ?? silentLogger;
  const verify = options.verifyChecksums ?? true;
  const seed = options.seed ?? 0;
  const shared = options.sharedMemory ?? false;
  logger.debug(`reading Fashion-MNIST from ${location.dir} (${location.origin})`);

  const contents = await Promise.all(FASHION_MNIST_FILES.map((f) => readMaybeGzipped(location.paths[f.role])));
  const byRole = new Map(FASHION_MNIST_FILES.map((f, i) => [f.role, { file: f, bytes: contents[i] as Uint8Array }]));
  const get = (role: FashionMnistFile['role']) => {
    const entry = byRole.get(role)!;
    return { ...entry, path: location.paths[role] };
  };

  const part = (imagesRole: 'trainImages' | 'testImages', labelsRole: 'trainLabels' | 'testLabels') => {
    const images = get(imagesRole);
    const labels = get(labelsRole);
    const img = parseIdx(images.bytes, images.path, 3);
    const lab = parseIdx(labels.bytes, labels.path, 1);
    const [n, h, w] = img.dims as [number, number, number];
    if (h !== IMAGE_SIDE || w !== IMAGE_SIDE) {
      throw corrupt(images.path, `images are ${h}×${w}, Fashion-MNIST images are ${IMAGE_SIDE}×${IMAGE_SIDE}`);
    }
    if (lab.dims[0] !== n) {
      throw corrupt(labels.path, `it holds ${lab.dims[0]} labels but ${images.path} holds ${n} images`);
    }
    for (let i = 0; i < lab.data.length; i++) {
      const label = lab.data[i] as number;
      if (label >= NUM_CLASSES) {
        throw corrupt(labels.path, `label ${label} at index ${i} is outside 0..${NUM_CLASSES - 1}`);
      }
    }
    if (verify) {
      for (const entry of [images, labels]) {
        const actual = sha256(entry.bytes);
        if (actual !== entry.file.rawSha256) {
          throw new UserError(
            `${entry.path} passes the format checks but is not the official Fashion-MNIST ${entry.file.name} ` +
              `(SHA-256 of the decompressed file ${actual}, expected ${entry.file.rawSha256}). ` +
              `Reinstall it (apt install --reinstall dataset-fashion-mnist) or replace it with the official file.`,
            { subject: entry.path, code: 'E_DATA_CHECKSUM' },
          );
        }
      }
    }
    return { x: img.data, y: lab.data, sampleSize: IMAGE_SIDE * IMAGE_SIDE, count: n };
  };

  // Validate all four files before building anything, so nothing half-loaded ever escapes.
  const trainSource = part('trainImages', 'trainLabels');
  const testSource = part('testImages', 'testLabels');

  const rng = createRng(seed);
  const labels = Int32Array.from(trainSource.y);
  const validationCount = resolveSize(options.validationSize ?? 0.1, trainSource.count, '--validation-size');
  if (validationCount >= trainSource.count) {
    throw new UserError(
      `--validation-size ${options.validationSize} leaves no training data (${trainSource.count} training images).`,
      { subject: '--validation-size' },
    );
  }
  const [validationIdx, trainIdx] = stratifiedPartition(labels, NUM_CLASSES, [validationCount], rng.fork('validation'));
  const fullTrain = gatherSplit({ ...trainSource, y: labels }, trainIdx as Int32Array, shared);
  const fullValidation = gatherSplit({ ...trainSource, y: labels }, validationIdx as Int32Array, shared);
  const allTest = Int32Array.from({ length: testSource.count }, (_, i) => i);
  const test = gatherSplit(testSource, allTest, shared);

  return {
    id: FASHION_MNIST_ID,
    task: { dataset: FASHION_MNIST_ID, inputShape: [IMAGE_SIDE, IMAGE_SIDE, 1], numClasses: NUM_CLASSES, kind: 'image' },
    classNames: [...FASHION_MNIST_CLASSES],
    train: subsetSplit(fullTrain, NUM_CLASSES, options.trainSubset, rng.fork('train-subset'), '--train-subset', shared),
    validation: subsetSplit(fullValidation, NUM_CLASSES, options.validationSubset, rng.fork('validation-subset'), '--validation-subset', shared),
    test,
    provenance: {
      source: `${location.dir} (${location.origin})`,
      checksumsVerified: verify,
      seed,
      notes: [],
    },
  };
}

/** Whether Fashion-MNIST can be found locally without downloading (tests and `doctor`-style checks). */
export function fashionMnistAvailable(options: FashionMnistOptions = {}): boolean {
  return locateFashionMnist(options).found !== undefined;
}
