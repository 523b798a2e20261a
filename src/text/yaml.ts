import { createRequire } from 'node:module';
import { CliError } from '../errors.ts';

// YAML through the js-yaml that gray-matter already bundles: no extra dependency. Loaded on first
// use, so commands that never read YAML do not pay for it at start-up. The literal require() lets
// esbuild split it into dist/vendor/; under vitest (ESM) createRequire stands in.

interface YamlEngine {
  parse(text: string): unknown;
  stringify(data: unknown, options?: Record<string, unknown>): string;
}

let engine: YamlEngine | undefined;

function yamlEngine(): YamlEngine {
  if (!engine) {
    const matter = (typeof require === 'function' ? require('gray-matter') : createRequire(import.meta.url)('gray-matter')) as {
      engines?: { yaml?: YamlEngine };
    };
    const found = matter.engines?.yaml;
    if (!found) throw new CliError('E_INTERNAL', 'internal error: the YAML engine of gray-matter is missing');
    engine = found;
  }
  return engine;
}

/**
 * Parses YAML text; a malformed document is a one-line E_INVALID error
 * "<source>:<line>:<column>: malformed YAML: <reason>; <fix>". `lineOffset` counts lines that
 * precede the text in its file (a frontmatter block starts on line 2).
 */
export function parseYaml(text: string, source: string, fix: string, lineOffset = 0): unknown {
  try {
    return yamlEngine().parse(text);
  } catch (error) {
    // js-yaml recurses once per nesting level, so a document of 100,000 "[" overflows the stack.
    if (error instanceof RangeError && /call stack/i.test(error.message)) {
      throw new CliError('E_INVALID', `${source}: malformed YAML: nesting too deep; ${fix}`);
    }
    const mark = (error as { mark?: { line?: number; column?: number } }).mark;
    if ((error as { name?: string }).name !== 'YAMLException') throw error;
    const reason = ((error as { reason?: string }).reason ?? (error as Error).message).split('\n')[0];
    const where = mark?.line !== undefined ? `:${mark.line + 1 + lineOffset}:${(mark.column ?? 0) + 1}` : '';
    throw new CliError('E_INVALID', `${source}${where}: malformed YAML: ${reason}; ${fix}`);
  }
}

/** YAML a person can review: no line folding, no anchors. */
export function stringifyYaml(data: unknown): string {
  return yamlEngine().stringify(data, { lineWidth: -1, noRefs: true });
}
