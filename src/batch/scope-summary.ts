/** Longest scope summary a table row prints. */
const MAX_SUMMARY = 60;

/**
 * One short line for a write scope: the entries themselves when they fit in 60 characters, else
 * the first entry and what the rest holds ("src/a.ts + 40 more (2 folders, 38 files)").
 */
export function summarizeScope(scope: readonly string[]): string {
  const all = scope.join(', ');
  if (all.length <= MAX_SUMMARY) return all;
  const folders = scope.filter((entry) => entry.endsWith('**')).length;
  const rest = scope.length - 1;
  const kinds = folders === 0 ? `${scope.length} files` : folders === scope.length ? `${folders} folders` : `${folders} folder${folders === 1 ? '' : 's'}, ${scope.length - folders} file${scope.length - folders === 1 ? '' : 's'}`;
  const first = scope[0]!.length > MAX_SUMMARY ? `${scope[0]!.slice(0, MAX_SUMMARY - 1)}…` : scope[0]!;
  return rest === 0 ? first : `${first} + ${rest} more (${kinds})`;
}
