#!/usr/bin/env node
// Installs the pinned Claude Code CLI into .cache/claude-code/ for the end-to-end tests. It is not a
// devDependency on purpose: the host runs `npm ci` with dev deps on every plugin install (60 s
// limit), and a 200 MB CLI there would make installing the plugin slow or fail. A second run
// reuses what is there, so the e2e suite pays the download once per machine.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLAUDE_CODE_VERSION = '2.1.197';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const CLAUDE_CODE_DIR = join(root, '.cache', 'claude-code');
const packageDir = join(CLAUDE_CODE_DIR, 'node_modules', '@anthropic-ai', 'claude-code');

function installedVersion() {
  try {
    return JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/**
 * The native executable. The platform package holds the real binary; the wrapper's bin/claude.exe
 * only becomes it after a postinstall script, which npm may skip (allowScripts), so prefer the
 * platform package and fall back to the wrapper's bin.
 */
export function claudeCodeBin() {
  const platformBinary = join(CLAUDE_CODE_DIR, 'node_modules', '@anthropic-ai', `claude-code-${process.platform}-${process.arch}`, 'claude');
  if (existsSync(platformBinary)) return platformBinary;
  return join(packageDir, 'bin', 'claude.exe');
}

export function ensureClaudeCode() {
  if (installedVersion() === CLAUDE_CODE_VERSION) return claudeCodeBin();
  mkdirSync(CLAUDE_CODE_DIR, { recursive: true });
  const manifest = join(CLAUDE_CODE_DIR, 'package.json');
  if (!existsSync(manifest)) writeFileSync(manifest, JSON.stringify({ name: 'claude-code-e2e', private: true }, null, 2) + '\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', `@anthropic-ai/claude-code@${CLAUDE_CODE_VERSION}`], {
    cwd: CLAUDE_CODE_DIR,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (installedVersion() !== CLAUDE_CODE_VERSION) {
    throw new Error(`installing @anthropic-ai/claude-code@${CLAUDE_CODE_VERSION} into ${CLAUDE_CODE_DIR} did not produce that version`);
  }
  return claudeCodeBin();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(ensureClaudeCode());
}
