/** Training backend layer: backend choice, wasm training kernels, fused ops, reference models, worker pool. */
export { BACKEND_NAMES, type BackendInfo, type BackendName, type BackendPreference, initBackend } from './backend.js';
export { ADDED_WASM_KERNELS, REPLACED_CPU_KERNELS, REPLACED_WASM_KERNELS, registerCpuTrainingKernels, registerWasmTrainingKernels } from './wasm-kernels.js';
export { registerFusedTrainingOps } from './fused-ops.js';
export { ADAM_UPDATE, FusedAdamOptimizer } from './fused-adam.js';
export { buildModelA, buildModelB, countTrainableParams, MODEL_A_PARAMS, MODEL_B_PARAMS, MODEL_B_SHAPE } from './reference-models.js';
export { createTrainStep, evaluateAccuracy, type TrainStep } from './train-step.js';
export { type ReferenceTrainResult, type ReferenceTrainTask, runReferenceTraining } from './reference-training.js';
export { TrainerPool, workerEntryPath } from './pool.js';
export type { TrainerReply, TrainerTask } from './worker.js';
export { loadModelArtifact, saveModelArtifact } from './model-artifacts.js';
export { layersModelToOnnx, ONNX_SUPPORTED_LAYERS, type OnnxExport, type OnnxExportOptions } from './onnx/layers-to-onnx.js';
export { decodeOnnx, encodeOnnx, ONNX_IR_VERSION, ONNX_OPSET, type OnnxModel } from './onnx/onnx-model.js';
export { INT8_CALIBRATION_SAMPLES, onnxOpCounts, quantizeOnnxInt8, type CalibrationData, type Int8Export } from './onnx/onnx-quantize.js';
export { onnxInferenceRunner, openOnnxSession, predictOnnx, probeOnnxLatency, runOnnxBatched, type OnnxSessionOptions } from './onnx/onnx-runtime.js';
