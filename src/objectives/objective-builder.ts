import { UserError, type MetricSpec } from '../core/index.js';
import { mnasRewardObjective, type MnasRewardOptions } from './mnas-reward.js';
import type { Objective } from './objective.js';

/** An objective that is one metric as is, with the metric's direction and unit. */
export function metricObjective(spec: MetricSpec): Objective {
  return {
    name: spec.name,
    direction: spec.direction,
    unit: spec.unit,
    requires: [spec.name],
    value: (m) => m[spec.name] as number,
  };
}

function available(specs: readonly MetricSpec[]): string {
  return specs.map((s) => `${s.name} (${s.direction === 'maximize' ? 'max' : 'min'}, ${s.unit})`).join(', ');
}

/**
 * Objectives from a comma-separated list of metric names (`accuracy,latency.edgegpu`) or an array,
 * checked against the metrics the space exposes. Unknown, duplicate or empty names are UserErrors
 * that list what is available.
 */
export function buildObjectives(names: string | readonly string[], specs: readonly MetricSpec[], flag = '--objectives'): Objective[] {
  const list = (typeof names === 'string' ? names.split(',') : [...names]).map((n) => n.trim());
  if (list.length === 0 || list.some((n) => n === '')) {
    throw new UserError(`${flag} '${typeof names === 'string' ? names : names.join(',')}' has an empty name; give metric names separated by commas, from: ${available(specs)}`, { subject: flag });
  }
  const byName = new Map(specs.map((s) => [s.name, s]));
  const seen = new Set<string>();
  return list.map((name) => {
    const spec = byName.get(name);
    if (!spec) throw new UserError(`${flag}: unknown metric '${name}'; this space and dataset expose: ${available(specs)}`, { subject: flag });
    if (seen.has(name)) throw new UserError(`${flag}: metric '${name}' is listed twice; list each objective once`, { subject: flag });
    seen.add(name);
    return metricObjective(spec);
  });
}

/**
 * The MnasNet reward objective with its metrics checked against the space's: the accuracy metric must
 * be maximised and the latency metric must be in ms.
 */
export function buildMnasObjective(specs: readonly MetricSpec[], options: MnasRewardOptions): Objective {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const acc = byName.get(options.accuracyMetric);
  if (!acc || acc.direction !== 'maximize') {
    throw new UserError(`MnasNet reward: '${options.accuracyMetric}' is not a maximised metric of this space; choose one of: ${available(specs.filter((s) => s.direction === 'maximize'))}`, { subject: '--objectives' });
  }
  const lat = byName.get(options.latencyMetric);
  if (!lat || lat.unit !== 'ms') {
    throw new UserError(`MnasNet reward: '${options.latencyMetric}' is not a latency metric (ms) of this space; choose one of: ${available(specs.filter((s) => s.unit === 'ms'))}`, { subject: '--objectives' });
  }
  return mnasRewardObjective(options);
}
