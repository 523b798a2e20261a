import { describe, expect, test } from 'vitest';
import { orderByDependencies } from '../../src/git/integrate.ts';
import { CliError } from '../../src/errors.ts';

const item = (task: string, depends_on: string[] = []) => ({ task, depends_on });

describe('orderByDependencies', () => {
  test('puts dependencies first, ties by id, ignoring edges to tasks outside the set', () => {
    const order = orderByDependencies([item('ui', ['api']), item('docs'), item('api', ['schema-gone']), item('e2e', ['ui', 'api'])]);
    expect(order.map((entry) => entry.task)).toEqual(['api', 'docs', 'ui', 'e2e']);
  });

  test('refuses a cycle and names its tasks', () => {
    try {
      orderByDependencies([item('a', ['b']), item('b', ['a']), item('c')]);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(CliError);
      expect((error as CliError).code).toBe('E_CYCLE');
      expect((error as CliError).message).toContain('a, b');
    }
  });
});
