#!/usr/bin/env node
// Entry point of every hook in hooks.json. PreToolUse fires on each Bash call and each edit of
// every session with the plugin enabled. A Bash call only needs its identity marker (a small
// bundle of its own, dist/hook-bash.cjs); an edit in the main conversation (no agent_id) has
// nothing to check. Everything else is handed to `parallel-agents hook <event>` in this process,
// with the payload already read. Fails open: on any error of its own it exits 0 with no decision.
'use strict';
const path = require('node:path');

const event = process.argv[2] || '';
// The installed plugin keeps dist/ beside hooks/; a clone keeps it in plugin/dist/.
const dist = [path.join(__dirname, '..', 'dist'), path.join(__dirname, '..', 'plugin', 'dist')].find((dir) => require('node:fs').existsSync(dir)) || path.join(__dirname, '..', 'dist');

function parse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

let text = '';
const timer = setTimeout(run, 3000);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (text += chunk));
process.stdin.on('end', run);
process.stdin.on('error', run);

let started = false;
function run() {
  if (started) return;
  started = true;
  clearTimeout(timer);
  // The launcher exits 2 on an old node, and exit 2 would block the tool call: fail open instead.
  if (Number(process.versions.node.split('.')[0]) < 18) {
    process.stderr.write(`parallel-agents hook ${event}: needs Node.js >= 18 (found ${process.versions.node}); skipped\n`);
    return;
  }
  try {
    if (event === 'pre-tool-use') {
      const payload = parse(text);
      if (!payload) return;
      if (payload.tool_name === 'Bash') {
        // Exec-form hooks are children of the Claude Code process: our parent is the host.
        const output = require(path.join(dist, 'hook-bash.cjs')).bashHookOutput(text, process.env, process.ppid);
        if (output) process.stdout.write(output);
        return;
      }
      if (typeof payload.agent_id !== 'string' || payload.agent_id === '') return;
    }
    process.env.PARALLEL_HOOK_PAYLOAD = text;
    process.argv = [process.argv[0], path.join(__dirname, '..', 'bin', 'parallel-agents'), 'hook', event];
    require(path.join(__dirname, '..', 'bin', 'parallel-agents'));
  } catch (error) {
    process.stderr.write(`parallel-agents hook ${event}: cannot run (${String(error && error.message).split('\n')[0]}) (allowed: hooks fail open)\n`);
    process.exitCode = 0;
  }
}
