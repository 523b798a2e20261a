// fast-glob does not read .gitignore. In a git repository git itself says what is ignored (see
// listBatchFiles); in a plain folder each .gitignore is translated into fast-glob ignore
// patterns so build output, caches and vendored folders never become units. Negated lines
// ("!keep.me") cannot be expressed as an ignore pattern and are skipped: at worst a file git
// would track is left out of the batch, never a generated file let in.

/** Patterns of the .gitignore in folder `base` ("" for the root), relative to the root. */
export function gitignorePatterns(text: string, base = ''): string[] {
  const patterns: string[] = [];
  for (const rawLine of text.split(/\r?\n/)) {
    let line = rawLine.replace(/(?<!\\)\s+$/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    if (line.startsWith('\\#') || line.startsWith('\\!')) line = line.slice(1);
    line = line.replace(/\/+$/, '');
    if (line === '' || line.split('/').includes('..')) continue;
    // A slash at the start or in the middle anchors the entry at the root; otherwise it matches
    // at any depth.
    const anchored = line.includes('/');
    const body = line.replace(/^\/+/, '');
    if (body === '') continue;
    const local = anchored || body.startsWith('**/') ? body : `**/${body}`;
    const pattern = base === '' ? local : `${base}/${local}`;
    patterns.push(pattern, `${pattern}/**`);
  }
  return patterns;
}
