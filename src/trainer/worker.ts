import { type SerializedError, serializeError } from '../core/index.js';
import { type ProxyTrialResult, type ProxyTrialTask, runProxyTrial } from './proxy-trial.js';
import { type ReferenceTrainResult, type ReferenceTrainTask, runReferenceTraining } from './reference-training.js';

/** A task a trainer worker runs. */
export type TrainerTask = { kind: 'reference-training'; task: ReferenceTrainTask } | { kind: 'proxy-trial'; task: ProxyTrialTask };

/** A worker's answer: the result, or the error as plain data (name, code and message survive the boundary). */
export type TrainerReply<R> = { ok: true; result: R } | { ok: false; error: SerializedError };

/**
 * Piscina worker entry: each worker thread initialises its own tfjs backend on its first task
 * (initBackend is per thread) and trains in it. Errors are returned, not thrown, so that their
 * class, code and message reach the caller intact.
 */
export default async function trainerWorker(message: TrainerTask): Promise<TrainerReply<ReferenceTrainResult | ProxyTrialResult>> {
  try {
    switch (message.kind) {
      case 'reference-training':
        return { ok: true, result: await runReferenceTraining(message.task) };
      case 'proxy-trial':
        return { ok: true, result: await runProxyTrial(message.task) };
      default:
        throw new Error(`unknown trainer task kind ${String((message as { kind?: unknown }).kind)}`);
    }
  } catch (err) {
    return { ok: false, error: serializeError(err) };
  }
}
