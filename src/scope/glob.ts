import { compileSegment, matchSegment, type SegmentProgram } from './segment-glob.ts';
import type { MatchCost } from './segment-syntax.ts';
import { isGlob, normalizeScopeEntry, scopeEntryProblem } from './scope-entry.ts';

export { isGlob, normalizeScopeEntry };

// Scope globs. Syntax: `**` any number of path segments, `*` and `?` within one segment, `{a,b}`
// alternatives, `[abc]` classes. A literal entry (no glob characters) names a file or a folder:
// it covers the path itself and everything beneath it; `dir/**` also covers `dir`.
// A glob is matched by walking the path once, segment by segment, keeping the set of pattern
// positions still alive (`**` loops on itself), and each segment by its own automaton: no
// backtracking, so a match costs at most 10 × (path length + 1) × (pattern length + 1) steps
// whatever the glob (tests/scope/glob.test.ts counts them). The PreToolUse hook runs this
// synchronously; a RegExp backtracking over `**/**/**/…` could stall it past its time-out.

/** The literal folder prefix before the first glob character ("src/api" for "src/api/**\/*.ts"). */
export function staticBase(entry: string): string {
  const segments = normalizeScopeEntry(entry).split('/');
  const literal: string[] = [];
  for (const segment of segments) {
    if (isGlob(segment)) break;
    literal.push(segment);
  }
  return literal.join('/');
}

type Step =
  | { kind: 'text'; text: string }
  | { kind: 'segment'; program: SegmentProgram }
  /** `**` followed by more: any number of non-empty segments. */
  | { kind: 'globstar' }
  /** `**` at the end: one or more segments of anything. */
  | { kind: 'rest' };

// How globMatches walks a glob: the common shapes skip the general walk (same answers).
/** A literal, `dir/**` or `**`: the base and everything beneath it. */
const UNDER = 0;
/** No `**` after the base: one path segment per step, in order. */
const STRAIGHT = 1;
/** `base/<segments>/**\/<segment>`: straight, then the last path segment decides (`**` takes the rest). */
const LAST = 2;
/** Anything else: the set of live positions. */
const GENERAL = 3;

export interface Glob {
  /** The normalized entry. */
  readonly entry: string;
  readonly shape: number;
  /** The literal segments before the first glob, joined: a matching path starts with them. */
  readonly base: string;
  /** Steps after the base, one or more path segments each. */
  readonly steps: Step[];
  /** Once all steps are done, any further segments are covered too. */
  readonly open: boolean;
}

const programs = new Map<string, SegmentProgram>();

/** One automaton per distinct segment glob ("*.ts" appears in thousands of entries). */
export function segmentProgram(segment: string): SegmentProgram {
  let compiled = programs.get(segment);
  if (!compiled) programs.set(segment, (compiled = compileSegment(segment)));
  return compiled;
}

/** Compiles a scope entry; throws on one scopeEntryProblem rejects (the schemas report those first). */
export function compileGlob(rawEntry: string): Glob {
  const problem = scopeEntryProblem(rawEntry);
  if (problem) throw new Error(`scope entry ${JSON.stringify(rawEntry)} ${problem}`);
  const entry = normalizeScopeEntry(rawEntry);
  if (entry === '**') return { entry, shape: UNDER, base: '', steps: [], open: true };
  const segments = entry.split('/');
  // "dir/**" also covers "dir" itself, as a folder scope should.
  const open = !isGlob(entry) || (segments.length > 1 && segments[segments.length - 1] === '**');
  if (open && isGlob(entry)) segments.pop();
  let first = segments.findIndex((segment) => isGlob(segment));
  if (first < 0) first = segments.length;
  const base = segments.slice(0, first).join('/');
  if (first === segments.length) return { entry, shape: UNDER, base, steps: [], open };
  const steps: Step[] = segments.slice(first).map((segment, index, rest) => {
    if (segment === '**') return { kind: index === rest.length - 1 ? 'rest' : 'globstar' };
    return isGlob(segment) ? { kind: 'segment', program: segmentProgram(segment) } : { kind: 'text', text: segment };
  });
  const perSegment = (step: Step): boolean => step.kind === 'text' || step.kind === 'segment';
  const globstarAt = steps.findIndex((step) => !perSegment(step));
  const lastShape = !open && globstarAt >= 0 && globstarAt === steps.length - 2 && steps[globstarAt]!.kind === 'globstar' && perSegment(steps[steps.length - 1]!);
  const shape = globstarAt < 0 ? STRAIGHT : lastShape ? LAST : GENERAL;
  return { entry, shape, base, steps, open: open || steps[steps.length - 1]!.kind === 'rest' };
}

function stepMatches(step: Step, path: string, start: number, end: number, cost: MatchCost): boolean {
  if (step.kind === 'segment') return matchSegment(step.program, path, start, end, cost);
  if (step.kind !== 'text') return false;
  cost.steps += step.text.length + 1;
  return end - start === step.text.length && path.startsWith(step.text, start);
}

const UNCOUNTED: MatchCost = { steps: 0 };
let liveA = new Uint8Array(64);
let liveB = new Uint8Array(64);

/** True when the (normalized) path is covered by the glob. */
export function globMatches(glob: Glob, path: string, cost: MatchCost = UNCOUNTED): boolean {
  const { base, steps } = glob;
  cost.steps += base.length + 1;
  let start = 0;
  if (base !== '') {
    if (!path.startsWith(base)) return false;
    if (path.length === base.length) return steps.length === 0 && glob.open;
    if (path.charCodeAt(base.length) !== 47) return false;
    start = base.length + 1;
  }
  if (glob.shape === UNDER) return true;
  if (glob.shape === STRAIGHT) return straight(glob, path, start, cost);
  if (glob.shape === LAST) return lastSegment(glob, path, start, cost);
  return general(glob, path, start, cost);
}

function straight(glob: Glob, path: string, start: number, cost: MatchCost): boolean {
  start = walkStraight(glob.steps, glob.steps.length, path, start, cost);
  return start > path.length ? start !== NO_MATCH : glob.open;
}

const NO_MATCH = Number.MAX_SAFE_INTEGER;

/**
 * Matches steps[0, count) against one path segment each, from `start`. Returns where the next
 * segment starts (path.length + 1 when the path is used up), or NO_MATCH.
 */
function walkStraight(steps: Step[], count: number, path: string, start: number, cost: MatchCost): number {
  for (let i = 0; i < count; i++) {
    // Past the end: the path ran out of segments before the glob did.
    if (start > path.length) return NO_MATCH;
    let end = path.indexOf('/', start);
    if (end < 0) end = path.length;
    cost.steps += end - start + 1;
    if (!stepMatches(steps[i]!, path, start, end, cost)) return NO_MATCH;
    start = end + 1;
  }
  return start;
}

function lastSegment(glob: Glob, path: string, start: number, cost: MatchCost): boolean {
  const { steps } = glob;
  start = walkStraight(steps, steps.length - 2, path, start, cost);
  if (start > path.length) return false;
  const slash = path.lastIndexOf('/');
  cost.steps += 2 * (path.length - start + 1);
  if (slash < start) return stepMatches(steps[steps.length - 1]!, path, start, path.length, cost);
  if (!stepMatches(steps[steps.length - 1]!, path, slash + 1, path.length, cost)) return false;
  // The segments between are what `**` took: none of them may be empty.
  if (path.charCodeAt(start) === 47) return false;
  const empty = path.indexOf('//', start);
  return empty < 0 || empty >= slash;
}

function general(glob: Glob, path: string, start: number, cost: MatchCost): boolean {
  const { steps } = glob;
  const last = steps.length;
  if (liveA.length <= last) {
    liveA = new Uint8Array(2 * last + 2);
    liveB = new Uint8Array(2 * last + 2);
  }
  let live = liveA;
  let next = liveB;
  live.fill(0, 0, last + 1);
  live[0] = 1;
  advanceOverGlobstars(steps, live);
  for (;;) {
    let end = path.indexOf('/', start);
    if (end < 0) end = path.length;
    cost.steps += end - start + last + 2;
    next.fill(0, 0, last + 1);
    let alive = false;
    for (let i = 0; i <= last; i++) {
      if (!live[i]) continue;
      cost.steps++;
      // Where this segment can take position i: to i + 1, to itself (`**`), or to the end.
      let to = -1;
      const step = steps[i];
      if (step === undefined) to = glob.open ? last : -1;
      else if (step.kind === 'globstar') to = end > start ? i : -1;
      else if (step.kind === 'rest') to = last;
      else if (stepMatches(step, path, start, end, cost)) to = i + 1;
      if (to >= 0) {
        next[to] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    advanceOverGlobstars(steps, next);
    const swap = live;
    live = next;
    next = swap;
    if (end === path.length) return live[last] === 1;
    start = end + 1;
  }
}

/** A `**` can match no segment at all: whoever stands before it also stands after it. */
function advanceOverGlobstars(steps: Step[], live: Uint8Array): void {
  for (let i = 0; i < steps.length; i++) if (live[i] && steps[i]!.kind === 'globstar') live[i + 1] = 1;
}

const compiled = new Map<string, Glob>();

export function cachedGlob(entry: string): Glob {
  let glob = compiled.get(entry);
  if (!glob) compiled.set(entry, (glob = compileGlob(entry)));
  return glob;
}

/** True when the repo-relative path lies inside any scope entry. */
export function matchesScope(path: string, scope: readonly string[], cost?: MatchCost): boolean {
  const normalized = normalizeScopeEntry(path);
  return scope.some((entry) => globMatches(cachedGlob(entry), normalized, cost));
}
