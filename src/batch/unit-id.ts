import { TASK_ID_PATTERN } from '../store/task-schema.ts';

const MAX_ID_LENGTH = 64;

/** "src/api/User.ts" -> "src-api-user.ts"; the root folder is "root". */
export function slugForPath(path: string): string {
  const slug = path
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/[._-]{2,}/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '');
  return slug === '' ? 'root' : slug;
}

function clip(text: string, length: number): string {
  return text.slice(0, length).replace(/[._-]+$/, '') || text.slice(0, 1);
}

/** One group keeps its own slug; a merged run is named by its first and last group. */
export function baseIdForKeys(keys: readonly string[]): string {
  const first = slugForPath(keys[0] ?? '');
  if (keys.length === 1) return clip(first, MAX_ID_LENGTH);
  const last = slugForPath(keys[keys.length - 1]!);
  const half = (MAX_ID_LENGTH - 2) >> 1;
  return first.length + 2 + last.length <= MAX_ID_LENGTH ? `${first}--${last}` : `${clip(first, half)}--${clip(last, half)}`;
}

/**
 * Distinct valid task ids, in order: a clash (two paths differing only in case or punctuation)
 * takes the first free "-2", "-3", … suffix, so the same files always give the same ids.
 */
export function uniqueIds(baseIds: readonly string[]): string[] {
  const taken = new Set<string>();
  return baseIds.map((base) => {
    let id = base;
    for (let n = 2; taken.has(id) || !TASK_ID_PATTERN.test(id); n++) {
      const suffix = `-${n}`;
      id = `${clip(base, MAX_ID_LENGTH - suffix.length)}${suffix}`;
    }
    taken.add(id);
    return id;
  });
}
