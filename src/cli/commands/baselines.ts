import type { CommandModule } from 'yargs';
import { commonOptions, printJson } from '../options.js';
import { renderTable } from '../format.js';
import { formatCount } from '../../report/index.js';

interface BaselinesArgs { json: boolean }

/** One row of `greennas baselines --json`. */
export interface BaselineJson {
  /** Id (the baseline space's `model`). */
  name: string;
  /** Display name. */
  title: string;
  /** `image` or `text`. */
  kind: 'image' | 'text';
  /** The implementation whose counts these reproduce. */
  reference: string;
  /** Input the counts are taken at: `224x224x3` or `sequence 128`. */
  input: string;
  /** Whether a classifier head is counted (torchvision's 1000-class fc; none for the BERT base models). */
  head: boolean;
  /** Trainable parameters. */
  params: number;
  /** Multiply-adds per sample. */
  macs: number;
  /** BatchNormalization running statistics (buffers, not parameters). */
  stateParams: number;
  /** Width and depth multipliers `greennas compare` trains on the run's data. */
  proxyVariant: { width: number; depth: number };
}

/** `greennas baselines`: the baseline architectures with their exact parameter and multiply-add counts at the reference input. */
export const baselinesCommand: CommandModule<object, BaselinesArgs> = {
  command: 'baselines',
  describe: 'List the baselines (ResNet-50, MobileNetV2, BERT-base, DistilBERT) with exact params and multiply-adds',
  builder: (y) => y.options({ json: commonOptions.json }),
  handler: async (args) => {
    // tfjs loads with the baselines' builders; only this command and compare need them.
    const { BASELINES, PROXY_VARIANTS, referenceCost } = await import('../../baselines/index.js');
    const rows: BaselineJson[] = BASELINES.map((b) => {
      const cost = referenceCost(b);
      const shape = b.referenceTask.inputShape;
      return {
        name: b.name, title: b.title, kind: b.kind, reference: b.reference,
        input: b.kind === 'image' ? shape.join('x') : `sequence ${shape[0]}`, head: b.referenceHead,
        params: cost.params, macs: cost.macs, stateParams: cost.stateParams, proxyVariant: { ...PROXY_VARIANTS[b.name] },
      };
    });
    if (args.json) return printJson(rows);
    process.stdout.write(renderTable(['name', 'model', 'params', 'MACs', 'input', 'head', 'reference', 'compare trains'], rows.map((r) => [
      r.name, r.title, r.params.toLocaleString('en-US'), formatCount(r.macs), r.input, r.head ? '1000 classes' : 'none',
      r.reference, `×${r.proxyVariant.width} width, ×${r.proxyVariant.depth} depth (+ full size, extrapolated)`,
    ])));
  },
};
