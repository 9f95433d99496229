/** Baseline architectures (ResNet-50, MobileNetV2, BERT-base, DistilBERT) with exact counts, scaled variants, and the baseline space. */
export * from './variant.js';
export * from './resnet50.js';
export * from './mobilenetv2.js';
export * from './bert.js';
export * from './catalogue.js';
export * from './baseline-space.js';
