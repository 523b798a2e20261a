// Tests run the CLI the way users do: as the esbuild bundle under plain node. It is built once per
// run into an ignored folder, so tests never depend on whether dist/ was rebuilt by hand.
import { bundle, writeAtomic } from '../../scripts/build.mjs';
import { TEST_BUNDLE } from './paths.ts';

export default async function setup(): Promise<void> {
  writeAtomic(TEST_BUNDLE, await bundle());
}
