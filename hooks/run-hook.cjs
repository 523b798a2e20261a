#!/usr/bin/env node
// Entry point of every hook in hooks.json. PreToolUse fires on each Bash call and each edit of
// every session with the plugin enabled; almost all of them have nothing to check (the main
// conversation has no agent_id; most Bash commands are not claims). Deciding that here, before
// loading the CLI bundle, keeps those calls at the cost of a bare node start. Anything else is
// handed to `parallel-agents hook <event>` in this process, with the payload it already read.
// Fails open: on any error of its own it exits 0 with no decision.
'use strict';
const path = require('node:path');

const event = process.argv[2] || '';

function nothingToCheck(text) {
  if (event !== 'pre-tool-use') return false;
  let payload;
  try {
    payload = JSON.parse(text);
  } catch {
    return true;
  }
  if (!payload || typeof payload.agent_id !== 'string' || payload.agent_id === '') return true;
  if (payload.tool_name === 'Bash') {
    const command = payload.tool_input && typeof payload.tool_input.command === 'string' ? payload.tool_input.command : '';
    return !(command.includes('parallel-agents') && command.includes('claim'));
  }
  return false;
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
  if (nothingToCheck(text)) return;
  // The launcher exits 2 on an old node, and exit 2 would block the tool call: fail open instead.
  if (Number(process.versions.node.split('.')[0]) < 18) {
    process.stderr.write(`parallel-agents hook ${event}: needs Node.js >= 18 (found ${process.versions.node}); skipped\n`);
    return;
  }
  try {
    process.env.PARALLEL_HOOK_PAYLOAD = text;
    process.argv = [process.argv[0], path.join(__dirname, '..', 'bin', 'parallel-agents'), 'hook', event];
    require(path.join(__dirname, '..', 'bin', 'parallel-agents'));
  } catch (error) {
    process.stderr.write(`parallel-agents hook ${event}: cannot run the CLI (${String(error && error.message).split('\n')[0]}) (allowed: hooks fail open)\n`);
    process.exitCode = 0;
  }
}
