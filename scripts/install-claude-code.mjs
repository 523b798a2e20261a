#!/usr/bin/env node
// Installs the Claude Code CLIs the end-to-end tests run against into .cache/claude-code/<version>/:
// the oldest host we support and the newest one we have checked. It is not a devDependency on
// purpose: a 235 MB CLI in node_modules would weigh on every `npm ci`, and the suite needs two
// versions side by side. Each version is downloaded once per checkout; a second run reuses it.
// CLAUDE_CODE_VERSIONS=2.1.332 (comma-separated) narrows a test run to some of them.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SUPPORTED_CLAUDE_CODE_VERSIONS = ['2.1.197', '2.1.332'];
/** The oldest supported host: the default where a caller names none. */
export const CLAUDE_CODE_VERSION = SUPPORTED_CLAUDE_CODE_VERSIONS[0];
export const CLAUDE_CODE_VERSIONS = process.env.CLAUDE_CODE_VERSIONS
  ? process.env.CLAUDE_CODE_VERSIONS.split(',').map((version) => version.trim()).filter(Boolean)
  : SUPPORTED_CLAUDE_CODE_VERSIONS;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLAUDE_CODE_DIR = join(root, '.cache', 'claude-code');
const DOWNLOAD_MB = 235;

/** Where a version lives: its own folder, or the single flat install checkouts made before there were two. */
function installDirs(version) {
  return [join(CLAUDE_CODE_DIR, version), CLAUDE_CODE_DIR];
}

function installedVersion(dir) {
  try {
    return JSON.parse(readFileSync(join(dir, 'node_modules', '@anthropic-ai', 'claude-code', 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * The native executable of `version` (installed or not). The platform package holds the real
 * binary; the wrapper's bin/claude.exe only becomes it after a postinstall script, which npm may
 * skip (allowScripts), so prefer the platform package and fall back to the wrapper's bin.
 */
export function claudeCodeBin(version = CLAUDE_CODE_VERSION) {
  const dir = installDirs(version).find((candidate) => installedVersion(candidate) === version) ?? installDirs(version)[0];
  const platformBinary = join(dir, 'node_modules', '@anthropic-ai', `claude-code-${process.platform}-${process.arch}`, 'claude');
  if (existsSync(platformBinary)) return platformBinary;
  return join(dir, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe');
}

/** The one line of npm's dozen-line error that says what went wrong. */
function npmReason(output) {
  const lines = output.split('\n').map((line) => line.replace(/^npm (error|ERR!)\s*/, '').trim()).filter(Boolean);
  const request = lines.find((line) => /request to \S+ failed/.test(line));
  if (request) return request.replace(/^FetchError: /, '');
  return lines.find((line) => /^notarget |^404 /.test(line)) ?? lines.find((line) => /^code /.test(line)) ?? lines[0] ?? 'npm printed nothing';
}

/** Installs `version` unless it is there; returns its binary. Throws one line naming what is needed. */
export function ensureClaudeCode(version = CLAUDE_CODE_VERSION) {
  if (installDirs(version).some((dir) => installedVersion(dir) === version)) return claudeCodeBin(version);
  const dir = installDirs(version)[0];
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, 'package.json');
  if (!existsSync(manifest)) writeFileSync(manifest, JSON.stringify({ name: 'claude-code-e2e', private: true }, null, 2) + '\n');
  const where = relative(root, dir);
  process.stderr.write(`Downloading Claude Code ${version} (~${DOWNLOAD_MB} MB, once) into ${where} for the end-to-end tests...\n`);
  // 2.1.332's package.json asks for node >= 22 (npm warns EBADENGINE); the native binary it
  // installs runs on node 20 all the same.
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--loglevel=error', `@anthropic-ai/claude-code@${version}`], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (npm.error || npm.status !== 0 || installedVersion(dir) !== version) {
    const reason = npm.error ? npm.error.message : npmReason(`${npm.stdout}\n${npm.stderr}`);
    const error = new Error(
      `the end-to-end tests need Claude Code ${version} in ${where} and could not download it from the npm registry (${reason}); ` +
        'run `node scripts/install-claude-code.mjs` once with the registry reachable, or set CLAUDE_CODE_VERSIONS to the versions already there',
    );
    error.stack = error.message;
    throw error;
  }
  return claudeCodeBin(version);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    for (const version of CLAUDE_CODE_VERSIONS) ensureClaudeCode(version);
    console.log(`Claude Code ${CLAUDE_CODE_VERSIONS.join(' and ')} ready in ${relative(root, CLAUDE_CODE_DIR)}/`);
  } catch (error) {
    console.error(`install-claude-code: ${error.message}`);
    process.exit(1);
  }
}
