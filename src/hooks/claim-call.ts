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
export function claimAgentNames(command: string): string[] {
  const words = splitShellWords(command);
  const names: string[] = [];
  for (let i = 0; i < words.length; i++) {
    // Only in command position: `echo parallel-agents claim ...` claims nothing.
    const atCommandStart = i === 0 || OPERATORS.has(words[i - 1]!);
    if (!atCommandStart || !isCli(words[i]!) || words[i + 1] !== 'claim') continue;
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
