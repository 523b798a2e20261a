import { createRequire } from 'node:module';
import { CliError } from '../errors.ts';
import { isOnThisHost, sameProcess } from '../process/liveness.ts';
import type { HolderProcess } from './backend.ts';

// Holding a claim is proved by a secret only its claimer was given. The store keeps (and shows)
// only a hash of it, so reading `_tasks/claimed/` or a task ref tells nobody how to act as the
// holder. SHA-256 rather than the store's quick fingerprint: a fingerprint can be inverted.
// node:crypto is loaded here only, by claim and the holder operations.

type CryptoModule = typeof import('node:crypto');
let cryptoModule: CryptoModule | undefined;

function crypto(): CryptoModule {
  cryptoModule ??= (typeof require === 'function' ? require('node:crypto') : createRequire(import.meta.url)('node:crypto')) as CryptoModule;
  return cryptoModule;
}

const TOKEN_PATTERN = /^[0-9a-f]{32}$/;
export const PROOF_LENGTH = 16;

const TOKEN_BYTES = 16;
// One randomBytes call per 256 tokens: a call per token cost about 7 us of a claim's time
// (bench/RESULTS.md). Every byte is handed out once and zeroed when it is, so the pool never
// holds a token that was already given to a claimer.
const POOL_BYTES = 256 * TOKEN_BYTES;
let pool: Buffer | undefined;
let poolAt = POOL_BYTES;

export function newHolderToken(): string {
  if (pool === undefined || poolAt + TOKEN_BYTES > pool.length) {
    pool = crypto().randomBytes(POOL_BYTES);
    poolAt = 0;
  }
  const token = pool.toString('hex', poolAt, poolAt + TOKEN_BYTES);
  pool.fill(0, poolAt, poolAt + TOKEN_BYTES);
  poolAt += TOKEN_BYTES;
  return token;
}

/** A new token with its proof. */
export function newHolderSecret(): { token: string; proof: string } {
  const token = newHolderToken();
  return { token, proof: proofOf(token) };
}

/** The public half: what the store records of a token. */
export function proofOf(token: string): string {
  const { hash, createHash } = crypto();
  // The one-shot hash (Node 20.12+) skips the Hash object a claim would build and drop; same digest.
  const digest = typeof hash === 'function' ? hash('sha256', token, 'hex') : createHash('sha256').update(token).digest('hex');
  return digest.slice(0, PROOF_LENGTH);
}

export function validateToken(token: string): string {
  if (!TOKEN_PATTERN.test(token)) {
    throw new CliError('E_INVALID', `--token "${token.slice(0, 40)}" is not a claim token; pass the 32-character token claim printed (its JSON field "token")`);
  }
  return token;
}

/** HMAC-SHA256 in hex: binds a value to a secret key (hook-injected identities). */
export function hmacHex(key: string, value: string): string {
  return crypto().createHmac('sha256', key).update(value).digest('hex');
}

export function randomSecret(): string {
  return crypto().randomBytes(32).toString('hex');
}

/** Constant-time comparison of two hex strings. */
export function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  return crypto().timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/**
 * Whether a claim in a store shared across machines is held here: its holder process runs on this
 * machine (process/liveness.ts decides "this machine") and, when `caller` is given, is that very
 * process (the session of a hook-verified agent). Every machine names its agents alike
 * (`<role>-<n>`), so on a shared store an agent name proves nothing; a claim recorded without a
 * holder, or held elsewhere, is operated with its token only.
 */
export function heldHere(holder: HolderProcess | undefined, caller?: HolderProcess): boolean {
  return holder !== undefined && isOnThisHost(holder) && (caller === undefined || sameProcess(holder, caller));
}
