/** Root of every error greennas throws on purpose; `code` is stable and machine-readable. */
export class GreennasError extends Error {
  /** Stable identifier, e.g. `E_USER`, `E_STORE`. */
  readonly code: string;
  constructor(message: string, code = 'E_GREENNAS', options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * Something the user must fix (a flag, a file, a config). Shown without a stack trace, exit code 2.
 * The message says what is wrong, why, and how to fix it.
 */
export class UserError extends GreennasError {
  /** The flag or file the error is about, when there is one (e.g. `--trials`). */
  readonly subject?: string;
  constructor(message: string, options?: { subject?: string; code?: string; cause?: unknown }) {
    super(message, options?.code ?? 'E_USER', options);
    this.subject = options?.subject;
  }
}

/** A single trial could not be evaluated (a device rejects the model, no table value, NaN loss). */
export class TrialError extends GreennasError {
  constructor(message: string, code = 'E_TRIAL', options?: { cause?: unknown }) {
    super(message, code, options);
  }
}

/** Plain-object form of an error, so it can cross a worker boundary with name, code and message intact. */
export interface SerializedError {
  /** Class name, e.g. `UserError`. */
  name: string;
  /** Stable code, when the error had one. */
  code?: string;
  /** Human-readable message. */
  message: string;
  /** Stack trace text, when available. */
  stack?: string;
  /** The flag or file a UserError is about. */
  subject?: string;
}

/** Turns any thrown value into a SerializedError. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; subject?: unknown };
    return {
      name: e.name,
      code: typeof e.code === 'string' ? e.code : undefined,
      message: e.message,
      stack: e.stack,
      subject: typeof e.subject === 'string' ? e.subject : undefined,
    };
  }
  return { name: 'Error', message: String(err) };
}

/** Rebuilds an error from its serialized form, keeping class (for greennas errors), name, code and message. */
export function deserializeError(s: SerializedError): Error {
  let err: Error;
  if (s.name === 'UserError') err = new UserError(s.message, { subject: s.subject, code: s.code });
  else if (s.name === 'TrialError') err = new TrialError(s.message, s.code);
  else if (s.name === 'GreennasError') err = new GreennasError(s.message, s.code);
  else {
    err = new Error(s.message);
    err.name = s.name;
    if (s.code) (err as Error & { code?: string }).code = s.code;
  }
  if (s.stack) err.stack = s.stack;
  return err;
}
