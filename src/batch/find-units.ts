import { CliError } from '../errors.ts';
import { batchRoot } from './batch-root.ts';
import { buildUnits, type BatchUnit } from './batch-unit.ts';
import { groupFiles, type GroupMode } from './file-group.ts';
import { matchesScope } from '../scope/glob.ts';
import { ALWAYS_IGNORED, listBatchFiles } from './list-batch-files.ts';

export interface FindUnitsOptions {
  cwd: string;
  globs: readonly string[];
  ignore: readonly string[];
  group: GroupMode;
  min: number;
  max: number;
}

export interface FoundUnits {
  root: string;
  inGit: boolean;
  fileCount: number;
  /** Groups before merging down to --max. */
  groupCount: number;
  units: BatchUnit[];
  /** Set when there are fewer units than --min (the batch may not be worth fanning out), or when files the globs would select cannot be named (a line break in the name). */
  warning: string | null;
}

export async function findUnits(options: FindUnitsOptions): Promise<FoundUnits> {
  const { root, inGit } = batchRoot(options.cwd);
  const { selected: files, tree } = await listBatchFiles({ root, inGit, globs: options.globs, ignore: options.ignore });
  if (files.length === 0) {
    const globs = options.globs.map((glob) => `--glob "${glob}"`).join(' ');
    throw new CliError(
      'E_USAGE',
      `${globs} matched no files under ${root} (${ALWAYS_IGNORED.join(', ')}, .gitignore entries${options.ignore.length > 0 ? ', --ignore' : ''} and symbolic links are left out); widen the pattern, e.g. --glob "src/**/*.ts"`,
    );
  }
  const groups = groupFiles(files, options.group);
  const units = buildUnits(groups, options.max, tree);
  const few = units.length < options.min
    ? `only ${units.length} unit${units.length === 1 ? '' : 's'} (fewer than --min ${options.min}): a fan-out may not pay off; try a finer --group${options.group.kind === 'file' ? '' : ' (file, or dir:N with a larger N)'} or a wider --glob, or do the work in one session`
    : undefined;
  const unnamed = lineBreakNames(tree, options.globs);
  const leftOut = unnamed.length > 0
    ? `${unnamed.length} file(s) whose name holds a line break were left out (e.g. ${JSON.stringify(unnamed[0])}), since no glob or scope can name them; rename them to batch them`
    : undefined;
  const warning = [few, leftOut].filter((text) => text !== undefined).join('; ') || null;
  return { root, inGit, fileCount: files.length, groupCount: groups.length, units, warning };
}

/** Files the globs would select but fast-glob cannot match: names holding a line break. */
function lineBreakNames(tree: readonly string[], globs: readonly string[]): string[] {
  return tree.filter((path) => path.includes('\n') && globs.some((glob) => {
    try {
      return matchesScope(path, [glob]);
    } catch {
      return true; // a pattern our scope grammar does not take: say so rather than stay silent
    }
  }));
}
