import { GreennasError, type MetricSpec, type MetricValue } from '../core/index.js';
import type { Evaluator, TrialInfo } from './evaluator.js';
import type { ArchJson, SearchSpace } from './search-space.js';

/** Evaluates architectures of a tabular (benchmark) space by looking them up; no training. */
export class TableEvaluator<A extends ArchJson> implements Evaluator<A> {
  readonly backend = 'table';
  readonly concurrency = 1;
  private readonly space: SearchSpace<A>;
  private readonly dataset: string;

  constructor(space: SearchSpace<A>, dataset: string) {
    if (!space.evaluate) throw new GreennasError(`space ${space.name} has no evaluate(): it must be trained, not looked up`, 'E_SPACE');
    this.space = space;
    this.dataset = dataset;
  }

  metrics(): readonly MetricSpec[] {
    return this.space.metrics(this.dataset);
  }

  async evaluate(arch: A, trial?: TrialInfo): Promise<{ metrics: MetricValue[] }> {
    const evaluate = this.space.evaluate as NonNullable<SearchSpace<A>['evaluate']>;
    return { metrics: await evaluate.call(this.space, arch, { dataset: this.dataset, ...(trial?.needed ? { metrics: trial.needed } : {}) }) };
  }

  async close(): Promise<void> {}
}
