import { defineCommand } from '../command.ts';
import { planJsonSchema } from '../../plan/plan-schema.ts';

// The JSON Schema of plan files, for editors: `parallel-agents plan schema > plan.schema.json`,
// then point the editor's YAML or JSON support at it.

export const command = defineCommand('plan schema', {
  options: {},
  async run() {
    const schema = planJsonSchema();
    return { data: schema, text: JSON.stringify(schema, null, 2) };
  },
});
