// Typed errors. Every error a user can meet carries a stable `code` and the LSB exit status it maps to; one place
// (commands/base) turns them into exit codes. Messages say what went wrong, where, and what to do.

/** LSB init-script exit codes, as libvirt-guests.sh uses them. */
export const EXIT = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NOT_RUNNING: 3,
  /** status only: the status cannot be told (LSB's "program or service status is unknown") */
  STATUS_UNKNOWN: 4,
  NOT_CONFIGURED: 6,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface ErrorDetails {
  /** what to do about it, one sentence */
  hint?: string;
  cause?: unknown;
}

export class GuestsError extends Error {
  readonly code: string;
  readonly exit: ExitCode;
  readonly hint: string | undefined;

  constructor(code: string, exit: ExitCode, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.exit = exit;
    this.hint = details.hint;
  }

  /** The message followed by the hint, as printed to a person. */
  describe(): string {
    return this.hint ? `${this.message}\n  ${this.hint}` : this.message;
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, exit: this.exit, message: this.message, ...(this.hint ? { hint: this.hint } : {}) };
  }
}

/** A configuration file that cannot be used: exit 6, "not configured". */
export class ConfigError extends GuestsError {
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly variable: string | undefined;

  constructor(
    message: string,
    where: { file?: string; line?: number; variable?: string } = {},
    details: ErrorDetails = {},
  ) {
    const at = where.file ? `${where.file}${where.line ? `:${where.line}` : ''}: ` : '';
    super('config', EXIT.NOT_CONFIGURED, `${at}${message}`, details);
    this.file = where.file;
    this.line = where.line;
    this.variable = where.variable;
  }
}

/** Wrong command-line usage: exit 2. */
export class UsageError extends GuestsError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('usage', EXIT.USAGE, message, details);
  }
}

/** A state file (list file, lock file, pid file, save image) that cannot be read or written. */
export class StateFileError extends GuestsError {
  readonly file: string;
  /** what is wrong with it, without the file name */
  readonly reason: string;
  constructor(file: string, reason: string, details: ErrorDetails = {}) {
    super('state-file', EXIT.FAILURE, `${file}: ${reason}`, details);
    this.file = file;
    this.reason = reason;
  }
}

/** An operation that failed at run time (generic exit 1). */
export class OperationError extends GuestsError {
  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(code, EXIT.FAILURE, message, details);
  }
}
