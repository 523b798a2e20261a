// Waves (Kahn layers) and the critical path, both computed in one pass over the task order:
// every edge points forward in that order, so it is already a topological order.

export interface ScheduleShape {
  /** 0-based wave of each plan task. */
  wave: Int32Array;
  waveCount: number;
  /** Plan indices along the heaviest path, first to last. */
  criticalPath: number[];
  criticalLength: number;
}

/** Predecessors in compressed form: task t's are list[start[t]] .. list[start[t + 1] - 1]. */
export interface Predecessors {
  start: Int32Array;
  list: Int32Array;
}

export function scheduleShape(order: Int32Array, predecessors: Predecessors, weight: Float64Array): ScheduleShape {
  const { start: first, list } = predecessors;
  const count = order.length;
  const wave = new Int32Array(count);
  const finish = new Float64Array(count);
  const via = new Int32Array(count).fill(-1);
  let waveCount = count > 0 ? 1 : 0;
  let end = -1;
  for (let position = 0; position < count; position++) {
    const task = order[position]!;
    let level = 0;
    let start = 0;
    for (let at = first[task]!; at < first[task + 1]!; at++) {
      const predecessor = list[at]!;
      if (wave[predecessor]! + 1 > level) level = wave[predecessor]! + 1;
      if (finish[predecessor]! > start) {
        start = finish[predecessor]!;
        via[task] = predecessor;
      }
    }
    wave[task] = level;
    if (level + 1 > waveCount) waveCount = level + 1;
    finish[task] = start + weight[task]!;
    if (end < 0 || finish[task]! > finish[end]!) end = task;
  }
  const criticalPath: number[] = [];
  for (let at = end; at >= 0; at = via[at]!) criticalPath.push(at);
  criticalPath.reverse();
  return { wave, waveCount, criticalPath, criticalLength: end < 0 ? 0 : finish[end]! };
}
