import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod/mini';
import { CliError } from '../errors.ts';
import { parseDuration } from '../text/duration.ts';

// What a project declares for its task worktrees, in one small tracked file at the repository
// root: the set-up command each new worktree runs, the default check agents run, and how many
// ports each worktree gets. It is read from the main checkout only, so a task branch cannot change
// the commands that run on the user's machine.

export const PROJECT_CONFIG_FILE = '.parallel-agents.json';

export const DEFAULT_SETUP_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_CHECK_TIMEOUT_MS = 10 * 60_000;
/** Below the Linux ephemeral range (32768+), away from the usual dev-server ports. */
export const DEFAULT_PORT_FROM = 20_000;
const DEFAULT_PORT_SPAN = 1_000;

const command = z.string().check(z.refine((text) => text.trim().length > 0, 'must be a shell command (not empty)'));
const duration = z.string().check(z.refine((text) => parseDuration(text, { unitRequired: true }) !== undefined, 'must be a duration such as 90s, 10m or 1h'));
const port = z.int().check(z.gte(1024, 'must be 1024 or more (lower ports need root)'), z.lte(65535, 'must be 65535 or less'));

const portsSchema = z.strictObject({
  count: z._default(z.int().check(z.gte(1, 'must be at least 1'), z.lte(100, 'must be at most 100')), 1),
  from: z._default(port, DEFAULT_PORT_FROM),
  to: z.optional(port),
});

const configSchema = z.strictObject({
  $schema: z.optional(z.string()),
  setup: z.optional(command),
  setup_timeout: z.optional(duration),
  check: z.optional(command),
  check_timeout: z.optional(duration),
  ports: z.optional(portsSchema),
});

const KNOWN_FIELDS = Object.keys(configSchema.shape).filter((key) => key !== '$schema');

export interface PortRange {
  /** Ports each worktree gets, consecutive from PARALLEL_PORT. */
  count: number;
  /** First and last port worktrees may be given (inclusive). */
  from: number;
  to: number;
}

export interface ProjectConfig {
  /** Absolute path of the file, for messages (it may not exist). */
  file: string;
  exists: boolean;
  setup: string | undefined;
  setupTimeoutMs: number;
  check: string | undefined;
  checkTimeoutMs: number;
  ports: PortRange | undefined;
}

function fail(file: string, field: string, message: string): never {
  throw new CliError('E_INVALID', `${file}: ${field}: ${message}; fix the file (the README's "Worktrees ready to work in" lists the fields)`, { file, field });
}

/** Reads `.parallel-agents.json` at the root of the main checkout; a missing file declares nothing. */
export function readProjectConfig(repoRoot: string): ProjectConfig {
  const file = join(repoRoot, PROJECT_CONFIG_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError('E_IO', `cannot read ${file}: ${(error as Error).message}`);
    return { file, exists: false, setup: undefined, setupTimeoutMs: DEFAULT_SETUP_TIMEOUT_MS, check: undefined, checkTimeoutMs: DEFAULT_CHECK_TIMEOUT_MS, ports: undefined };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    fail(file, '(file)', `not valid JSON (${(error as Error).message.split('\n')[0]})`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) fail(file, '(file)', 'must be a JSON object such as {"setup": "npm ci", "check": "npm test"}');
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as unknown as { keys: string[] }).keys;
      fail(file, where ? `${where}.${keys[0]}` : keys[0]!, `unknown field (known: ${where === 'ports' ? 'count, from, to' : KNOWN_FIELDS.join(', ')})`);
    }
    fail(file, where || '(file)', issue.message);
  }
  const data = parsed.data;
  let ports: PortRange | undefined;
  if (data.ports) {
    const { count, from } = data.ports;
    const to = data.ports.to ?? Math.min(65535, from + DEFAULT_PORT_SPAN - 1);
    if (to - from + 1 < count) fail(file, 'ports.to', `the range ${from}-${to} holds fewer than ports.count (${count}) ports`);
    ports = { count, from, to };
  }
  return {
    file,
    exists: true,
    setup: data.setup,
    setupTimeoutMs: data.setup_timeout ? parseDuration(data.setup_timeout, { unitRequired: true })! : DEFAULT_SETUP_TIMEOUT_MS,
    check: data.check,
    checkTimeoutMs: data.check_timeout ? parseDuration(data.check_timeout, { unitRequired: true })! : DEFAULT_CHECK_TIMEOUT_MS,
    ports,
  };
}
