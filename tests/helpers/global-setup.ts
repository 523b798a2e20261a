// Tests run the CLI the way users do: as the esbuild bundle under plain node. It is built once per
// run into an ignored folder, so tests never depend on whether dist/ was rebuilt by hand. Test
// fixtures that run as child processes are bundled the same way: forking them through tsx would
// cost ~300 ms of start-up each.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { writeBundle } from '../../scripts/build.mjs';
import { FIXTURE_BUILD_DIR, REPO_ROOT, TEST_BUNDLE } from './paths.ts';

export default async function setup(): Promise<void> {
  await writeBundle(dirname(TEST_BUNDLE));
  const fixtures = readdirSync(join(REPO_ROOT, 'tests', 'fixtures')).filter((name) => name.endsWith('.ts'));
  await build({
    entryPoints: fixtures.map((name) => join(REPO_ROOT, 'tests', 'fixtures', name)),
    bundle: true,
    platform: 'node',
    target: 'node18',
    format: 'cjs',
    outdir: FIXTURE_BUILD_DIR,
    outExtension: { '.js': '.cjs' },
    logLevel: 'silent',
  });
}
