import * as tf from '@tensorflow/tfjs';
import { simdKernels } from './simd-kernels.js';
import { heapOffset, sizeOf, type WasmBackend } from './wasm-backend-access.js';

/** Kernel: one Adam step of one variable; inputs value, m, v, gradient; outputs [value', m', v']. */
export const ADAM_UPDATE = 'GreennasAdamUpdate';

/** The AdamOptimizer fields this subclass drives (private in tfjs's typings, public at run time). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
}

/**
 * tfjs's Adam, with each variable's update as one kernel where the backend has ADAM_UPDATE (wasm
 * with the SIMD module): the stock update is fourteen element-wise kernels per variable. Same
 * maths in the same float32 order, same state and serialisation (it is an AdamOptimizer); other
 * backends run the stock update.
 */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon ?? null as unknown as number);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!tf.getKernel(ADAM_UPDATE, tf.getBackend())) {
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as AdamState;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    tf.tidy(() => {
      // float32 1 − βᵗ, as tfjs's sub(1, accBeta) computes it.
      const c1 = Math.fround(1 - self.accBeta1.dataSync()[0]!);
      const c2 = Math.fround(1 - self.accBeta2.dataSync()[0]!);
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient: tf.Tensor | undefined = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = self.accumulatedFirstMoment[i]!.variable;
        const v = self.accumulatedSecondMoment[i]!.variable;
        const [w2, m2, v2] = tf.engine().runKernel(ADAM_UPDATE, { value, m, v, gradient }, {
          beta1: self.beta1, beta2: self.beta2, c1, c2, epsilon: self.epsilon, learningRate: self.learningRate,
        }) as tf.Tensor[];
        m.assign(m2!);
        v.assign(v2!);
        value.assign(w2!);
      });
      self.accBeta1.assign(tf.mul(self.accBeta1, self.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, self.beta2));
    });
    this.incrementIterations();
  }
}

/** Registers ADAM_UPDATE for this wasm backend where the SIMD module loads; FusedAdamOptimizer falls back to the stock update elsewhere. */
export function registerAdamKernel(backend: WasmBackend): void {
  const simd = simdKernels(backend);
  if (!simd || tf.getKernel(ADAM_UPDATE, 'wasm')) return;
  tf.registerKernel({
    kernelName: ADAM_UPDATE,
    backendName: 'wasm',
    kernelFunc: (({ inputs, attrs }: { inputs: Record<string, tf.TensorInfo>; attrs: Record<string, number> }) => {
      const { value, m, v, gradient } = inputs as Record<'value' | 'm' | 'v' | 'gradient', tf.TensorInfo>;
      const outs = [value!, m!, v!].map((t) => backend.makeOutput(t.shape, 'float32'));
      const at = (t: tf.TensorInfo) => heapOffset(backend, t);
      simd.adam_update(at(value!), at(m!), at(v!), at(gradient!), at(outs[0]!), at(outs[1]!), at(outs[2]!), sizeOf(value!.shape),
        attrs.beta1!, 1 - attrs.beta1!, attrs.beta2!, 1 - attrs.beta2!, attrs.c1!, attrs.c2!, attrs.epsilon!, -attrs.learningRate!);
      return outs;
    }) as unknown as tf.KernelFunc,
  });
}
