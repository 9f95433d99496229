/**
 * Exporting stored models: tfjs's layers-model files, ONNX (FP32, and INT8 in QDQ form for ONNX
 * Runtime's integer kernels; the conversion lives in src/trainer/onnx, where the latency probe uses
 * it too), checked against tfjs, and a manifest per model. Only the CLI imports this module.
 */
export { TFJS_WEIGHTS_FILE, tfjsModelFiles, type TfjsModelJson } from './tfjs-files.js';
export {
  checkExportRequest, checkOutDir, compareLogits, EXPORT_FORMATS, exportModels, ONNX_LOGIT_TOLERANCE, ONNX_MIN_AGREEMENT, selectTrials,
  type ExportCheck, type ExportData, type ExportedModel, type ExportFormat, type ExportManifest, type ExportRequest,
} from './model-export.js';
