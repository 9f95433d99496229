import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../core/index.js';
import { registerFusedTrainingOps } from './fused-ops.js';
import { registerCpuTrainingKernels, registerWasmTrainingKernels } from './wasm-kernels.js';

/** A backend greennas can train on, in order of preference. */
export type BackendName = 'tfjs-node-gpu' | 'tfjs-node' | 'wasm' | 'cpu';

/** What `--backend` accepts: a backend name, or `auto` for the first one that loads. */
export type BackendPreference = 'auto' | BackendName;

/** Every backend name, most preferred first. */
export const BACKEND_NAMES: readonly BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

/** The backend chosen at start-up, with why, for stderr and for the run store. */
export interface BackendInfo {
  /** The greennas name of the backend in use. */
  name: BackendName;
  /** tfjs's own name for it (`tensorflow`, `wasm`, `cpu`). */
  tfjsBackend: string;
  /** One line saying what was chosen and why the better ones were not. */
  reason: string;
  /** Package versions that produced the numbers (tfjs and the backend package). */
  versions: Record<string, string>;
}

const require = createRequire(import.meta.url);

function packageVersion(name: string): string | undefined {
  try {
    return (require(`${name}/package.json`) as { version: string }).version;
  } catch {
    return undefined;
  }
}

function errorText(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0]!.slice(0, 200);
}

/** Tries one backend; resolves to null when it works, else to the reason it does not. */
async function tryBackend(name: BackendName): Promise<string | null> {
  try {
    switch (name) {
      case 'tfjs-node-gpu':
      case 'tfjs-node': {
        // The native bindings register the `tensorflow` backend on import.
        await import(`@tensorflow/${name}`);
        if (!(await tf.setBackend('tensorflow'))) return 'the tensorflow backend did not initialise';
        if (name === 'tfjs-node-gpu' && !tf.env().getBool('IS_NODE')) return 'not running under Node';
        return null;
      }
      case 'wasm': {
        const wasm = await import('@tensorflow/tfjs-backend-wasm');
        const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
        wasm.setWasmPaths(dist + path.sep);
        if (!(await tf.setBackend('wasm'))) return 'the wasm module did not initialise';
        registerWasmTrainingKernels();
        return null;
      }
      case 'cpu':
        if (!(await tf.setBackend('cpu'))) return 'the cpu backend did not initialise';
        registerCpuTrainingKernels();
        return null;
    }
  } catch (err) {
    return errorText(err);
  }
}

/**
 * Chooses the training backend once per process (or worker thread): the native TensorFlow
 * bindings (GPU, then CPU) when they load, else wasm with greennas's training kernels, else the
 * pure-JS cpu backend. A forced backend that cannot load is a UserError carrying the reason.
 */
export async function initBackend(preferred: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (preferred !== 'auto' && !BACKEND_NAMES.includes(preferred)) {
    throw new UserError(
      `--backend ${String(preferred)} is not a backend greennas knows; use one of auto, ${BACKEND_NAMES.join(', ')}.`,
      { subject: '--backend' },
    );
  }
  const candidates = preferred === 'auto' ? BACKEND_NAMES : [preferred];
  const skipped: string[] = [];
  for (const name of candidates) {
    const failure = await tryBackend(name);
    if (failure === null) {
      registerFusedTrainingOps();
      const versions: Record<string, string> = { '@tensorflow/tfjs': tf.version.tfjs };
      const pkg = name === 'cpu' ? '@tensorflow/tfjs-backend-cpu' : name === 'wasm'
        ? '@tensorflow/tfjs-backend-wasm' : `@tensorflow/${name}`;
      const v = packageVersion(pkg);
      if (v) versions[pkg] = v;
      if (name === 'wasm') {
        versions.wasmSimd = String(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
      }
      const why = skipped.length ? ` (skipped: ${skipped.join('; ')})` : '';
      return {
        name,
        tfjsBackend: tf.getBackend(),
        reason: `backend ${name}${preferred === 'auto' ? ' chosen automatically' : ' forced by --backend'}${why}`,
        versions,
      };
    }
    if (preferred !== 'auto') {
      throw new UserError(
        `--backend ${name} is not available here: ${failure}. Use --backend auto to take the best one that loads.`,
        { subject: '--backend' },
      );
    }
    skipped.push(`${name}: ${failure}`);
  }
  // cpu is pure JS and always loads, so this is a bug, not user input.
  throw new Error(`no tfjs backend could be initialised: ${skipped.join('; ')}`);
}
