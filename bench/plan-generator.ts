// The generated plans `plan check` is measured on (bench/plan.bench.ts, bench/scope.bench.ts): a
// 100,402-path monorepo model (packages/pkgNNN/src/modNN/fileNNN.ts plus root and package "hot
// files"); each task writes 1-20 entries skewed towards few (75 % exact paths, 15 % modNN/**, 5 %
// src/**/*.ts, 5 % hot files), 80 % of them in its home package, and has 0-3 depends_on edges to
// earlier tasks.
import type { Plan } from '../src/plan/plan-schema.ts';
import { seededRandom } from './seeded-random.ts';

const PACKAGES = 100;
const MODULES = 20;
const FILES = 50;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

export function generatePlan(taskCount: number, seed = 42): Plan {
  const random = seededRandom(seed);
  const pick = (n: number): number => Math.floor(random() * n);
  const pkg = (index: number): string => `packages/pkg${pad(index, 3)}`;
  const tasks: Plan['tasks'] = [];
  for (let t = 0; t < taskCount; t++) {
    const home = pick(PACKAGES);
    const entryCount = 1 + Math.floor(19 * random() ** 3);
    const files: string[] = [];
    for (let e = 0; e < entryCount; e++) {
      const p = random() < 0.8 ? home : pick(PACKAGES);
      const kind = random();
      if (kind < 0.75) files.push(`${pkg(p)}/src/mod${pad(pick(MODULES), 2)}/file${pad(pick(FILES), 3)}.ts`);
      else if (kind < 0.9) files.push(`${pkg(p)}/src/mod${pad(pick(MODULES), 2)}/**`);
      else if (kind < 0.95) files.push(`${pkg(p)}/src/**/*.ts`);
      else {
        const hot = [`${pkg(p)}/package.json`, `${pkg(p)}/src/index.ts`, 'package.json', 'tsconfig.json'];
        files.push(hot[pick(hot.length)]!);
      }
    }
    const dependsOn = new Set<string>();
    const edgeCount = t === 0 ? 0 : pick(4);
    for (let d = 0; d < edgeCount; d++) dependsOn.add(`t${pad(pick(t), 6)}`);
    tasks.push({
      id: `t${pad(t, 6)}`,
      title: `task ${t}`,
      files,
      reads: [],
      depends_on: [...dependsOn],
      prompt: 'generated',
      max_attempts: 2,
      ...(random() < 0.7 ? { estimate: `${5 + pick(56)}m` } : {}),
    });
  }
  return { name: `bench-${taskCount}`, tasks };
}
