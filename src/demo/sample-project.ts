// The demo's throwaway project: a tiny text library with its own test command runnable by plain
// node (no install), and a plan of ten tasks with real dependencies and one overlapping pair
// (slugify and slugify-accents both write src/slugify.js, so the plan must order them).

export const SAMPLE_TEST_COMMAND = 'node test/run.js';

const lines = (...text: string[]): string => `${text.join('\n')}\n`;

export function sampleProjectFiles(): Record<string, string> {
  return {
    'package.json': lines(
      '{',
      '  "name": "textkit",',
      '  "version": "0.0.0",',
      '  "private": true,',
      '  "description": "Small text helpers (the parallel-agents demo project)",',
      '  "scripts": { "test": "node test/run.js" }',
      '}',
    ),
    'README.md': lines('# textkit', '', 'Small text helpers. Run the tests with `node test/run.js`.'),
    'src/index.js': lines("'use strict';", '', 'module.exports = {};'),
    'test/run.js': lines(
      "'use strict';",
      '// Runs every test/*.test.js: each exports named test functions that throw on failure.',
      "const fs = require('node:fs');",
      "const path = require('node:path');",
      'let passed = 0;',
      'let failed = 0;',
      "for (const file of fs.readdirSync(__dirname).filter((name) => name.endsWith('.test.js')).sort()) {",
      '  const tests = require(path.join(__dirname, file));',
      '  for (const [name, test] of Object.entries(tests)) {',
      '    try {',
      '      test();',
      '      passed++;',
      '    } catch (error) {',
      '      failed++;',
      '      console.error(`FAIL ${file} ${name}: ${error.message}`);',
      '    }',
      '  }',
      '}',
      'console.log(`${passed} passed, ${failed} failed`);',
      'process.exitCode = failed > 0 ? 1 : 0;',
    ),
    'test/smoke.test.js': lines(
      "'use strict';",
      "const assert = require('node:assert/strict');",
      "exports.indexLoads = () => assert.equal(typeof require('../src/index.js'), 'object');",
    ),
  };
}

export interface DemoPlanTask {
  id: string;
  title: string;
  files: string[];
  depends_on: string[];
  estimate: string;
  prompt: string;
}

export const DEMO_PLAN_NAME = 'textkit-demo';

export function demoPlan(): { name: string; tasks: DemoPlanTask[] } {
  const task = (id: string, title: string, files: string[], depends_on: string[], estimate: string, prompt: string): DemoPlanTask => ({ id, title, files, depends_on, estimate, prompt });
  return {
    name: DEMO_PLAN_NAME,
    tasks: [
      task('capitalize', 'capitalize(text): upper-case the first letter', ['src/capitalize.js', 'test/capitalize.test.js'], [], '2s',
        'Add src/capitalize.js exporting capitalize(text) and a test.'),
      task('slugify', 'slugify(text): URL-safe lower-case slugs', ['src/slugify.js', 'test/slugify.test.js'], [], '3s',
        'Add src/slugify.js exporting slugify(text) and a test.'),
      task('slugify-accents', 'slugify strips accents (cafe, not caf)', ['src/slugify.js', 'test/slugify-accents.test.js'], [], '2s',
        'Make slugify fold accented letters to ASCII before slugging; add a test. Edits the same file as the slugify task.'),
      task('truncate', 'truncate(text, max): cut on a word boundary with an ellipsis', ['src/truncate.js', 'test/truncate.test.js'], [], '2s',
        'Add src/truncate.js exporting truncate(text, max) and a test.'),
      task('word-count', 'wordCount(text)', ['src/word-count.js', 'test/word-count.test.js'], [], '2s',
        'Add src/word-count.js exporting wordCount(text) and a test.'),
      task('title-case', 'titleCase(text) built on capitalize', ['src/title-case.js', 'test/title-case.test.js'], ['capitalize'], '2s',
        'Add src/title-case.js using capitalize; add a test.'),
      task('excerpt', 'excerpt(text): first words with a reading-time note', ['src/excerpt.js', 'test/excerpt.test.js'], ['truncate', 'word-count'], '3s',
        'Add src/excerpt.js using truncate and wordCount; add a test.'),
      task('index', 'Export every helper from src/index.js', ['src/index.js', 'test/index.test.js'], ['capitalize', 'slugify-accents', 'truncate', 'word-count', 'title-case', 'excerpt'], '1s',
        'Export all helpers from src/index.js; add a test that they are all there.'),
      task('cli', 'bin/textkit.js: run a helper from the command line', ['bin/textkit.js', 'test/cli.test.js'], ['index'], '2s',
        'Add bin/textkit.js (textkit <helper> <text>) and a test that runs it.'),
      task('docs', 'Document the helpers and the CLI in the README', ['README.md'], ['cli'], '1.5s',
        'Add a usage section to README.md listing every helper and the CLI.'),
    ],
  };
}
