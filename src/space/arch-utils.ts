import { UserError } from '../core/index.js';
import type { ArchJson, Decision } from './search-space.js';

/** A plain JSON object (not an array, not null). */
export type JsonObject = { [key: string]: unknown };

/** Whether `value` is a plain object (what an architecture's record fields must be). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * JSON text with object keys sorted at every depth, so two equal architectures written with keys in
 * a different order get the same key.
 */
export function canonicalJson(value: ArchJson): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as ArchJson)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Formats choices for messages: `3, 5` or `"mean", "cls"`. */
function formatChoices(choices: readonly unknown[]): string {
  return choices.map((c) => JSON.stringify(c)).join(', ');
}

/**
 * Returns `value` when it is one of `choices`, else throws a UserError naming the field (`path`), the
 * allowed values and what was given. `what` names the space for the message.
 */
export function checkChoice<T extends string | number | boolean>(
  what: string,
  path: string,
  value: unknown,
  choices: readonly T[],
): T {
  if (!choices.includes(value as T)) {
    throw new UserError(
      `${what}: ${path} must be one of ${formatChoices(choices)}; got ${value === undefined ? 'nothing' : JSON.stringify(value)}. ` +
        'Fix the architecture JSON.',
    );
  }
  return value as T;
}

/** Throws a UserError when `value` has keys other than `allowed` (a typo would otherwise be ignored silently). */
export function checkKeys(what: string, path: string, value: JsonObject, allowed: readonly string[]): void {
  const extra = Object.keys(value).filter((k) => !allowed.includes(k));
  if (extra.length > 0) {
    throw new UserError(
      `${what}: ${path} has unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')}; ` +
        `allowed fields are ${allowed.join(', ')}. Fix the architecture JSON.`,
    );
  }
}

/** Index of `value` among a decision's choices; throws a RangeError (a bug: arch was not validated) when absent. */
export function choiceIndex(decision: Decision, value: string | number | boolean): number {
  const i = decision.choices.indexOf(value);
  if (i < 0) throw new RangeError(`${JSON.stringify(value)} is not a choice of decision ${decision.name}`);
  return i;
}

/** The choice at `index` of a decision; throws a RangeError when the index is out of range or not an integer. */
export function choiceAt<T extends string | number | boolean>(decision: Decision, index: number | undefined): T {
  if (index === undefined || !Number.isInteger(index) || index < 0 || index >= decision.choices.length) {
    throw new RangeError(`choice index ${String(index)} is out of range for decision ${decision.name} (${decision.choices.length} choices)`);
  }
  return decision.choices[index] as T;
}

/** Checks an encoding's length against the decisions; throws a RangeError otherwise. */
export function checkEncodingLength(decisions: readonly Decision[], choices: readonly number[]): void {
  if (choices.length !== decisions.length) {
    throw new RangeError(`an encoding needs ${decisions.length} choice indices, got ${choices.length}`);
  }
}
