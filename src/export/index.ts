/**
 * Exporting stored models: tfjs's layers-model files, ONNX (FP32, and INT8 in QDQ form for ONNX
 * Runtime's integer kernels), the ONNX Runtime latency probe, and a manifest per model. Only the CLI
 * imports this module.
 */
export { layersModelToOnnx, ONNX_SUPPORTED_LAYERS, type OnnxExport, type OnnxExportOptions } from './layers-to-onnx.js';
export { decodeOnnx, encodeOnnx, ONNX_IR_VERSION, ONNX_OPSET, type OnnxModel } from './onnx-model.js';
export { onnxOpCounts, quantizeOnnxInt8, type CalibrationData, type Int8Export } from './onnx-quantize.js';
export { openOnnxSession, predictOnnx, probeOnnxLatency, runOnnxBatched, type OnnxSessionOptions } from './onnx-runtime.js';
export { TFJS_WEIGHTS_FILE, tfjsModelFiles, type TfjsModelJson } from './tfjs-files.js';
export {
  checkExportRequest, checkOutDir, compareLogits, EXPORT_FORMATS, exportModels, INT8_CALIBRATION_SAMPLES, ONNX_LOGIT_TOLERANCE, ONNX_MIN_AGREEMENT, selectTrials,
  type ExportCheck, type ExportData, type ExportedModel, type ExportFormat, type ExportManifest, type ExportRequest,
} from './model-export.js';
