/** An error the CLI reports itself: the message, the exit code, and whether it is a flag error. */
export class CliError extends Error {
  readonly code: number;
  /**
   * plain: `run`/`create` print `berth: <message>.` and a help hint; flag: the message and a help
   * hint; raw: the message only.
   */
  readonly kind: 'plain' | 'flag' | 'raw';
  constructor(message: string, code = 1, kind: 'plain' | 'flag' | 'raw' = 'plain') {
    super(message);
    this.code = code;
    this.kind = kind;
  }
}

/** Exit silently with this code (the message, if any, was printed already). */
export class ExitCode extends Error {
  readonly code: number;
  constructor(code: number) {
    super(`exit ${code}`);
    this.code = code;
  }
}
