/** Training backend layer: backend choice, wasm training kernels, fused ops, reference models, worker pool. */
export { BACKEND_NAMES, type BackendInfo, type BackendName, type BackendPreference, initBackend } from './backend.js';
export { ADDED_WASM_KERNELS, REPLACED_CPU_KERNELS, REPLACED_WASM_KERNELS, registerCpuTrainingKernels, registerWasmTrainingKernels } from './wasm-kernels.js';
export { batchNormTraining, layerNormalization, registerFusedTrainingOps } from './fused-ops.js';
export { FusedBatchNormalization, FusedLayerNormalization, Relu6 } from './fused-layers.js';
export { encoderLayer, type EncoderLayerOptions, MultiHeadSelfAttention, PositionEmbedding } from './transformer-layers.js';
export { buildModelA, buildModelB, countTrainableParams, MODEL_A_PARAMS, MODEL_B_PARAMS, MODEL_B_SHAPE } from './reference-models.js';
export { createTrainStep, evaluateAccuracy, type TrainStep } from './train-step.js';
export { type ReferenceTrainResult, type ReferenceTrainTask, runReferenceTraining } from './reference-training.js';
export { TrainerPool, workerEntryPath } from './pool.js';
export type { TrainerReply, TrainerTask } from './worker.js';
export { loadModelArtifact, saveModelArtifact } from './model-artifacts.js';
