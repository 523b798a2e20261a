import { describe, expect, it } from 'vitest';
import { scopeEntryProblem } from '../../src/scope/scope-entry.ts';

// The table words each refusal, with its fix.

const BAD: Array<[string, string]> = [
  ['', 'is empty: name a file, folder or glob relative to the repository root'],
  ['/etc/passwd', 'is absolute: write it relative to the repository root'],
  [' /etc', 'is absolute: write it relative to the repository root'],
  ['C:/work', 'is absolute: write it relative to the repository root'],
  ['../x', 'contains "..": a scope stays inside the repository; name the path from its root'],
  [' ../x', 'contains "..": a scope stays inside the repository; name the path from its root'],
  ['a\\..\\b', 'contains "..": a scope stays inside the repository; name the path from its root'],
  ['a\\b', 'uses "\\": separate folders with "/"'],
  ['.', 'names no path: write ** for the whole repository'],
  ['./', 'names no path: write ** for the whole repository'],
  ['!src/**', 'is negated ("!…"), which scopes do not support: list what the task writes'],
  ['a/./b', 'has a "." segment: leave it out (a/b, not a/./b)'],
  ['src/[a', 'has a "[" without its "]": close the character class'],
  ['src/a]', 'has a "]" without its "[": remove it, or open the character class with "["'],
  ['src/[].ts', 'has an empty character class "[]": list at least one character in it'],
  ['src/[!].ts', 'has an empty character class "[]": list at least one character in it'],
  ['src/[z-a].ts', 'has the reversed range "z-a" in a "[...]" class: write it low to high (a-z)'],
  ['src/{a,[,]}', 'has a "[...]" class cut by "," or "}" inside "{...}": keep each class within one alternative'],
  ['src/{a,{b,c}}/x', 'has nested "{" alternatives: write them flat, as in {a,b,c}'],
  ['src/{a,b', 'has a "{" without its "}": close it within the same folder (alternatives cannot span "/")'],
  ['src/{a,b/c}', 'has a "{" without its "}": close it within the same folder (alternatives cannot span "/")'],
  ['src/a}', 'has a "}" without its "{": remove it, or open the alternatives with "{"'],
];

const GOOD = ['src/api/**', 'src/api', './src//api/', 'src/*.{ts,tsx}', 'src/[ab].ts', 'src/[!a-c]*', 'src/{,a}[{]x', '**', 'README', '.github/workflows/*.yml', 'a/..b/c', 'src/ a.ts'];

describe('scopeEntryProblem', () => {
  it.each(BAD)('refuses %j: %s', (entry, problem) => {
    expect(scopeEntryProblem(entry)).toBe(problem);
  });

  it('accepts the entries people write', () => {
    expect(GOOD.map((entry) => [entry, scopeEntryProblem(entry)])).toStrictEqual(GOOD.map((entry) => [entry, undefined]));
  });

});
