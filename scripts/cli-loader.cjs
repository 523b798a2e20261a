'use strict';
// Loads cli.cjs with a V8 code cache. Compiling the ~650 KB bundle is the largest part of a call's
// start-up, and every hook call and agent command pays it (bench/RESULTS.md, CLI latency). The
// cache lives in the user's own cache folder (mode 0700), keyed by the bundle's content, the node
// version and flags, and the command; V8 rejects a cache that does not match the source, and any
// failure to read or write one only means compiling as before.
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');
const { createHash } = require('node:crypto');

const file = path.join(__dirname, 'cli.cjs');
const source = fs.readFileSync(file, 'utf8');

function cacheFile() {
  const home = process.env.XDG_CACHE_HOME || (process.env.HOME ? path.join(process.env.HOME, '.cache') : '');
  if (!home || process.env.PARALLEL_AGENTS_NO_CODE_CACHE) return undefined;
  const key = createHash('sha256').update(source).update('\0').update(process.version).update('\0').update(process.arch)
    .update('\0').update(process.execArgv.join(' ')).update('\0').update(process.env.NODE_OPTIONS || '').digest('hex').slice(0, 24);
  // One cache per command: it holds the functions that command compiled, which is most of the gain.
  const command = process.argv.slice(2, 4).filter((word) => /^[a-z][a-z-]{0,20}$/.test(word)).join('-') || 'none';
  return path.join(home, 'parallel-agents', `cli-${key}-${command}.v8cache`);
}

const cachePath = cacheFile();
let cachedData;
if (cachePath) {
  try {
    cachedData = fs.readFileSync(cachePath);
  } catch {
    cachedData = undefined;
  }
}
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
if (cachePath && (cachedData === undefined || script.cachedDataRejected)) {
  // Written once the command has run, so the functions it compiled are in the cache too; whole or
  // not at all (a temporary file renamed into place).
  process.once('exit', () => {
    try {
      fs.mkdirSync(path.dirname(cachePath), { recursive: true, mode: 0o700 });
      const temporary = `${cachePath}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
      fs.renameSync(temporary, cachePath);
    } catch {
      // No cache this time: the next call compiles again.
    }
  });
}
const cli = new Module(file, module);
cli.filename = file;
cli.paths = Module._nodeModulePaths(__dirname);
const localRequire = (id) => cli.require(id);
localRequire.resolve = (request) => Module._resolveFilename(request, cli);
script.runInThisContext()(cli.exports, localRequire, cli, file, __dirname);
module.exports = cli.exports;
