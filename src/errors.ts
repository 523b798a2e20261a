// Every failure the CLI reports is a CliError with a stable code; this table is the one place
// that maps codes to the documented exit codes, so scripts can rely on them.

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  nothingClaimableNow: 3,
  noWorkLeft: 4,
  notHolder: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const EXIT_BY_CODE = {
  E_USAGE: EXIT.usage,
  E_INVALID: EXIT.usage,
  E_UNSAFE_PATH: EXIT.usage,
  E_EXISTS: EXIT.usage,
  E_CYCLE: EXIT.usage,
  E_UNKNOWN_DEP: EXIT.usage,
  E_DUPLICATE_ID: EXIT.usage,
  E_NOT_FOUND: EXIT.failed,
  E_REFUSED: EXIT.failed,
  E_GIT: EXIT.failed,
  E_EVIDENCE: EXIT.failed,
  E_STOPPED: EXIT.failed,
  E_AGENT: EXIT.failed,
  E_SETUP: EXIT.failed,
  E_INTERRUPTED: EXIT.failed,
  E_IO: EXIT.failed,
  E_INTERNAL: EXIT.failed,
  E_NOTHING_CLAIMABLE: EXIT.nothingClaimableNow,
  E_NO_WORK: EXIT.noWorkLeft,
  E_NOT_HOLDER: EXIT.notHolder,
  E_IDENTITY: EXIT.notHolder,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof EXIT_BY_CODE;

export class CliError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.details = details;
  }

  get exitCode(): ExitCode {
    return EXIT_BY_CODE[this.code];
  }
}

/** What each exit code means, for `--help` and the README (tests/repo/structure.test.ts holds the README to it). */
export const EXIT_MEANINGS: Record<ExitCode, string> = {
  [EXIT.ok]: 'success',
  [EXIT.failed]: 'the operation failed (git error, merge stopped, refused, agent failure)',
  [EXIT.usage]: 'bad usage or invalid input (flag, file, field, id, path)',
  [EXIT.nothingClaimableNow]: 'nothing claimable now, but work remains',
  [EXIT.noWorkLeft]: 'no work left: everything is completed or blocked',
  [EXIT.notHolder]: 'refused: the caller does not hold that claim, or is not the agent it names',
};
