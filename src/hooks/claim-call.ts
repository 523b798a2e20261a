// Reads a Bash command line the way a shell would split it, to find `parallel-agents claim` and the
// agent name it claims for. This is how a hook learns which claim belongs to which subagent: the
// subagent's own PreToolUse(Bash) payload carries its agent_id, and the command carries the name.

const OPERATORS = new Set(['&&', '||', ';', '|', '&', '(', ')']);

/** Shell-like words; `$` expansions are kept verbatim so callers can refuse them. */
export function splitShellWords(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < command.length; i++) {
    const char = command[i]!;
    if (char === "'") {
      const end = command.indexOf("'", i + 1);
      word += end < 0 ? command.slice(i + 1) : command.slice(i + 1, end);
      i = end < 0 ? command.length : end;
      inWord = true;
    } else if (char === '"') {
      let j = i + 1;
      while (j < command.length && command[j] !== '"') {
        if (command[j] === '\\' && j + 1 < command.length) j++;
        word += command[j];
        j++;
      }
      i = j;
      inWord = true;
    } else if (char === '\\' && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if ('&|;()'.includes(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      const two = command.slice(i, i + 2);
      if (two === '&&' || two === '||') {
        words.push(two);
        i++;
      } else words.push(char);
    } else {
      word += char;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function isCli(word: string): boolean {
  return word === 'parallel-agents' || word.endsWith('/parallel-agents') || word.endsWith('/parallel-agents.cjs');
}

/**
 * The `--agent` values of every `parallel-agents claim` in the command. A name that still holds a
 * shell expansion (`$AGENT`) cannot be known here and is skipped: agents are told to pass it literally.
 */
/**
 * From a command's first word, skips what only wraps the program: `VAR=value` assignments,
 * `env`, `timeout <duration>`, `nice`, and `node` running the CLI's script.
 */
function programIndex(words: readonly string[], start: number): number {
  let i = start;
  for (;;) {
    const word = words[i];
    if (word === undefined) return i;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word) || word === 'env' || word === 'nice' || word === 'command') i++;
    else if (word === 'timeout') i += /^\d/.test(words[i + 1] ?? '') ? 2 : 1;
    else if (word === 'node' && words[i + 1] !== undefined && isCli(words[i + 1]!)) i++;
    else return i;
  }
}

export function claimAgentNames(command: string): string[] {
  const words = splitShellWords(command);
  const names: string[] = [];
  for (let start = 0; start < words.length; start++) {
    // Only in command position: `echo parallel-agents claim ...` claims nothing.
    const atCommandStart = start === 0 || OPERATORS.has(words[start - 1]!);
    if (!atCommandStart) continue;
    const i = programIndex(words, start);
    if (i >= words.length || !isCli(words[i]!) || words[i + 1] !== 'claim') continue;
    for (let j = i + 2; j < words.length && !OPERATORS.has(words[j]!); j++) {
      const word = words[j]!;
      let value: string | undefined;
      if (word === '--agent') value = words[j + 1];
      else if (word.startsWith('--agent=')) value = word.slice('--agent='.length);
      if (value !== undefined && value.length > 0 && !value.includes('$') && !value.includes('`')) names.push(value);
    }
  }
  return names;
}
