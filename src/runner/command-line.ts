import { CliError } from '../errors.ts';

/**
 * Splits `--agent-cmd` into an argument vector the way a POSIX shell would split words (single
 * quotes, double quotes, backslashes), and does nothing else: no variables, globs, pipes or
 * substitutions. The command never runs through a shell, so task text cannot be interpolated.
 */
export function splitCommandLine(text: string, flag = '--agent-cmd'): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else current += char;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '\\' && index + 1 < text.length && '"\\$`'.includes(text[index + 1]!)) current += text[++index]!;
      else current += char;
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === '\\' && index + 1 < text.length) {
      current += text[++index]!;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += char;
      inWord = true;
    }
  }
  if (quote) throw new CliError('E_USAGE', `${flag} has an unterminated ${quote} quote: ${text}`);
  if (inWord) words.push(current);
  if (words.length === 0) throw new CliError('E_USAGE', `${flag} is empty; give a program and its arguments`);
  return words;
}
