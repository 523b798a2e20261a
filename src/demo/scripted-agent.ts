import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { runGit } from '../repo/run-git.ts';

// The demo's built-in agent: a real child process the runner drives exactly like a model CLI
// (prompt on stdin, PARALLEL_* environment, exit code), making deterministic edits after a
// realistic pause. No model, no network. It commits its own work like a well-behaved agent,
// except for the docs task, which leaves its edit uncommitted so the runner's commit shows.

interface Script {
  /** How long a model would take, in ms (scaled by PARALLEL_DEMO_SPEED). */
  thinkMs: number;
  edit(root: string): void;
  commit: boolean;
}

const lines = (...text: string[]): string => `${text.join('\n')}\n`;

function write(root: string, path: string, content: string): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

function test(name: string, body: string[], requires: string[]): string {
  return lines("'use strict';", "const assert = require('node:assert/strict');", ...requires, '', `exports.${name} = () => {`, ...body.map((line) => `  ${line}`), '};');
}

export const DEMO_SCRIPTS: Record<string, Script> = {
  capitalize: {
    thinkMs: 2000,
    commit: true,
    edit(root) {
      write(root, 'src/capitalize.js', lines("'use strict';", '', 'function capitalize(text) {', '  return text.length === 0 ? text : text[0].toUpperCase() + text.slice(1);', '}', '', 'module.exports = { capitalize };'));
      write(root, 'test/capitalize.test.js', test('capitalizes', ["assert.equal(capitalize('hello'), 'Hello');", "assert.equal(capitalize(''), '');"], ["const { capitalize } = require('../src/capitalize.js');"]));
    },
  },
  slugify: {
    thinkMs: 3000,
    commit: true,
    edit(root) {
      write(root, 'src/slugify.js', lines(
        "'use strict';", '',
        'function slugify(text) {',
        '  return text',
        '    .toLowerCase()',
        "    .replace(/[^a-z0-9]+/g, '-')",
        "    .replace(/^-+|-+$/g, '');",
        '}', '',
        'module.exports = { slugify };',
      ));
      write(root, 'test/slugify.test.js', test('slugifies', ["assert.equal(slugify('Hello, World!'), 'hello-world');"], ["const { slugify } = require('../src/slugify.js');"]));
    },
  },
  'slugify-accents': {
    thinkMs: 2000,
    commit: true,
    edit(root) {
      const path = join(root, 'src/slugify.js');
      // A real edit of the file the slugify task wrote: it only exists if that task ran first.
      if (!existsSync(path)) throw new Error('src/slugify.js does not exist: the slugify task has not been merged into this worktree');
      const before = readFileSync(path, 'utf8');
      const after = before.replace('  return text\n', "  return text\n    .normalize('NFD')\n    .replace(/[\\u0300-\\u036f]/g, '')\n");
      if (after === before) throw new Error('src/slugify.js does not look like the slugify task left it');
      writeFileSync(path, after);
      write(root, 'test/slugify-accents.test.js', test('foldsAccents', ["assert.equal(slugify('Café déjà vu'), 'cafe-deja-vu');"], ["const { slugify } = require('../src/slugify.js');"]));
    },
  },
  truncate: {
    thinkMs: 2000,
    commit: true,
    edit(root) {
      write(root, 'src/truncate.js', lines(
        "'use strict';", '',
        'function truncate(text, max) {',
        '  if (text.length <= max) return text;',
        "  const cut = text.slice(0, max - 1);",
        "  const space = cut.lastIndexOf(' ');",
        "  return `${space > 0 ? cut.slice(0, space) : cut}…`;",
        '}', '',
        'module.exports = { truncate };',
      ));
      write(root, 'test/truncate.test.js', test('truncates', ["assert.equal(truncate('short', 10), 'short');", "assert.equal(truncate('the quick brown fox', 12), 'the quick…');"], ["const { truncate } = require('../src/truncate.js');"]));
    },
  },
  'word-count': {
    thinkMs: 1500,
    commit: true,
    edit(root) {
      write(root, 'src/word-count.js', lines("'use strict';", '', 'function wordCount(text) {', '  const words = text.trim().split(/\\s+/);', "  return words[0] === '' ? 0 : words.length;", '}', '', 'module.exports = { wordCount };'));
      write(root, 'test/word-count.test.js', test('counts', ["assert.equal(wordCount('one two  three'), 3);", "assert.equal(wordCount('   '), 0);"], ["const { wordCount } = require('../src/word-count.js');"]));
    },
  },
  'title-case': {
    thinkMs: 2000,
    commit: true,
    edit(root) {
      if (!existsSync(join(root, 'src/capitalize.js'))) throw new Error('src/capitalize.js is missing: title-case builds on the capitalize task');
      write(root, 'src/title-case.js', lines("'use strict';", "const { capitalize } = require('./capitalize.js');", '', 'function titleCase(text) {', "  return text.split(' ').map(capitalize).join(' ');", '}', '', 'module.exports = { titleCase };'));
      write(root, 'test/title-case.test.js', test('titleCases', ["assert.equal(titleCase('a tale of two cities'), 'A Tale Of Two Cities');"], ["const { titleCase } = require('../src/title-case.js');"]));
    },
  },
  excerpt: {
    thinkMs: 3000,
    commit: true,
    edit(root) {
      for (const needed of ['src/truncate.js', 'src/word-count.js']) {
        if (!existsSync(join(root, needed))) throw new Error(`${needed} is missing: excerpt builds on it`);
      }
      write(root, 'src/excerpt.js', lines(
        "'use strict';",
        "const { truncate } = require('./truncate.js');",
        "const { wordCount } = require('./word-count.js');", '',
        'function excerpt(text, max = 40) {',
        '  const minutes = Math.max(1, Math.round(wordCount(text) / 200));',
        '  return `${truncate(text, max)} (${minutes} min read)`;',
        '}', '',
        'module.exports = { excerpt };',
      ));
      write(root, 'test/excerpt.test.js', test('excerpts', ["assert.equal(excerpt('the quick brown fox jumps', 12), 'the quick… (1 min read)');"], ["const { excerpt } = require('../src/excerpt.js');"]));
    },
  },
  index: {
    thinkMs: 1000,
    commit: true,
    edit(root) {
      const modules = ['capitalize', 'slugify', 'truncate', 'word-count', 'title-case', 'excerpt'];
      const missing = modules.filter((name) => !existsSync(join(root, `src/${name}.js`)));
      if (missing.length > 0) throw new Error(`missing modules: ${missing.join(', ')}`);
      write(root, 'src/index.js', lines("'use strict';", '', 'module.exports = {', ...modules.map((name) => `  ...require('./${name}.js'),`), '};'));
      write(root, 'test/index.test.js', test('exportsEverything', [
        "assert.deepEqual(Object.keys(textkit).sort(), ['capitalize', 'excerpt', 'slugify', 'titleCase', 'truncate', 'wordCount']);",
        "assert.equal(textkit.slugify('Crème Brûlée'), 'creme-brulee');",
      ], ["const textkit = require('../src/index.js');"]));
    },
  },
  cli: {
    thinkMs: 2000,
    commit: true,
    edit(root) {
      write(root, 'bin/textkit.js', lines(
        '#!/usr/bin/env node',
        "'use strict';",
        "const textkit = require('../src/index.js');", '',
        'const [helper, ...words] = process.argv.slice(2);',
        "if (typeof textkit[helper] !== 'function') {",
        "  console.error(`usage: textkit <${Object.keys(textkit).join('|')}> <text>`);",
        '  process.exit(2);',
        '}',
        "console.log(textkit[helper](words.join(' ')));",
      ));
      write(root, 'test/cli.test.js', test('runsAHelper', [
        "const out = execFileSync(process.execPath, [path.join(__dirname, '..', 'bin', 'textkit.js'), 'titleCase', 'hello', 'world'], { encoding: 'utf8' });",
        "assert.equal(out, 'Hello World\\n');",
      ], ["const { execFileSync } = require('node:child_process');", "const path = require('node:path');"]));
    },
  },
  docs: {
    thinkMs: 1500,
    commit: false,
    edit(root) {
      const readme = readFileSync(join(root, 'README.md'), 'utf8');
      writeFileSync(join(root, 'README.md'), `${readme}\n## Usage\n\n\`\`\`sh\nnode bin/textkit.js titleCase a tale of two cities   # A Tale Of Two Cities\nnode bin/textkit.js slugify "Café déjà vu"           # cafe-deja-vu\n\`\`\`\n\nHelpers: capitalize, slugify, truncate, wordCount, titleCase, excerpt.\n`);
    },
  },
};

function readAllStdin(): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (chunk: string) => (text += chunk));
    process.stdin.on('end', () => resolve(text));
    process.stdin.on('error', () => resolve(text));
  });
}

/** Runs as `parallel-agents demo agent` inside a task worktree; returns the exit code. */
export async function runScriptedAgent(env: NodeJS.ProcessEnv, cwd: string): Promise<{ exitCode: number; message: string }> {
  const taskId = env.PARALLEL_TASK_ID;
  const script = taskId ? DEMO_SCRIPTS[taskId] : undefined;
  if (!taskId || !script) return { exitCode: 2, message: `scripted agent: no script for task "${taskId ?? ''}" (it only knows the demo plan)` };
  const prompt = await readAllStdin();
  if (!prompt.includes(`Task ${taskId}`)) return { exitCode: 2, message: `scripted agent: the prompt on stdin does not name task ${taskId}` };
  const speed = Number(env.PARALLEL_DEMO_SPEED ?? '1');
  await new Promise((resolve) => setTimeout(resolve, script.thinkMs * (Number.isFinite(speed) && speed > 0 ? speed : 1)));
  try {
    script.edit(cwd);
  } catch (error) {
    return { exitCode: 1, message: `scripted agent: ${(error as Error).message}` };
  }
  if (script.commit) {
    runGit(['add', '--all', '--', '.'], { cwd });
    runGit(['commit', '--quiet', '-m', `${taskId}: scripted edit`], { cwd });
  }
  return { exitCode: 0, message: `scripted agent: ${taskId} done${script.commit ? ' and committed' : ' (left uncommitted)'}` };
}
