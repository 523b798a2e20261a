import { TASK_ID_PATTERN } from '../store/task-schema.ts';
import { fingerprint } from '../text/fingerprint.ts';

// A unit's id names where it is: the shortest tail of its folder's path (or its file's) that no
// other unit of the batch shares, kebab-cased ("packages/vite/src/node" -> "node", or
// "vite-src-node" when another unit ends in "node" too). A unit merged from several folders
// adds the first and last of them ("pkg-m00--m07"). Ids depend only on where the units are, so
// adding files to the batch's folders leaves every id as it was.

const MAX_ID_LENGTH = 64;
/** Each end of a merged unit's range keeps at most this much of its name. */
const MAX_RANGE_PART = 20;

/** "User Profile.ts" -> "user-profile.ts"; "" when nothing usable is left. */
export function slugForName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/[._-]{2,}/g, '-')
    .replace(/^[._-]+|[._-]+$/g, '');
}

/** "src/api/User.ts" -> "src-api-user.ts"; the root folder is "root". */
export function slugForPath(path: string): string {
  return path.split('/').map(slugForName).filter((slug) => slug !== '').join('-') || 'root';
}

/** Where a unit is, for its id. */
export interface UnitPlace {
  /** The unit's folder or file; for a merged unit the folder all its groups share ("" = root). */
  path: string;
  /** For a merged unit: the first and last group, as their first name below `path` ("" = `path` itself). */
  range?: readonly [string, string] | undefined;
  /** The unit's group keys: what tells two units apart when everything else is alike. */
  keys: readonly string[];
}

function clipStart(text: string, length: number): string {
  return text.length <= length ? text : text.slice(text.length - length).replace(/^[._-]+/, '');
}

function clipEnd(text: string, length: number): string {
  return text.length <= length ? text : text.slice(0, length).replace(/[._-]+$/, '');
}

/** The id from the last `depth` names of the path (0 = none), within 64 characters. */
function candidate(place: UnitPlace, names: readonly string[], depth: number): string {
  const tail = names.slice(names.length - depth).join('-');
  if (!place.range) return clipStart(tail || 'root', MAX_ID_LENGTH);
  const [first, last] = place.range.map((name) => clipEnd(slugForName(name), MAX_RANGE_PART));
  const range = first === '' ? `--${last || 'root'}` : `${tail === '' ? '' : '-'}${first}--${last || 'root'}`;
  const head = first === '' ? tail || 'root' : tail;
  return `${clipStart(head, MAX_ID_LENGTH - range.length)}${range}`.replace(/^[._-]+/, '');
}

function withHash(id: string, place: UnitPlace): string {
  const hash = fingerprint(place.keys.join('\n')).slice(0, 6);
  return `${clipEnd(id, MAX_ID_LENGTH - hash.length - 1)}-${hash}`.replace(/^[._-]+/, '');
}

/**
 * Distinct valid task ids, in order. Every unit starts with one name of its path; the units
 * whose ids clash take one more name, until none clash or a path has no names left. Units that
 * still clash (paths differing only in case or punctuation) take a hash of their path, which
 * does not depend on the order or the other units.
 */
export function unitIds(places: readonly UnitPlace[]): string[] {
  const names = places.map((place) => (place.path === '' ? [] : place.path.split('/').map(slugForName).filter((slug) => slug !== '')));
  // A merged unit's range already says where it is: its folder's names come in only on a clash.
  const depth = names.map((list, i) => (places[i]!.range?.[0] ? 0 : Math.min(1, list.length)));
  const ids = places.map((place, i) => candidate(place, names[i]!, depth[i]!));
  for (let changed = true; changed; ) {
    changed = false;
    const holders = new Map<string, number[]>();
    ids.forEach((id, i) => {
      const list = holders.get(id);
      if (list) list.push(i);
      else holders.set(id, [i]);
    });
    for (const clash of holders.values()) {
      if (clash.length < 2) continue;
      for (const i of clash) {
        if (depth[i]! < names[i]!.length) {
          depth[i]!++;
          ids[i] = candidate(places[i]!, names[i]!, depth[i]!);
          changed = true;
        }
      }
    }
  }
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return ids.map((id, i) => (counts.get(id)! > 1 || !TASK_ID_PATTERN.test(id) ? withHash(id === '' ? 'unit' : id, places[i]!) : id));
}
