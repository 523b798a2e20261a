import { defineCommand } from '../command.ts';
import { openStore } from '../open-store.ts';

export const command = defineCommand('init', {
  options: {},
  async run(ctx) {
    const store = openStore(ctx);
    const result = await store.init();
    const text = [
      `${result.created ? 'created the store at' : 'store already at'} ${store.description}`,
      result.exclude_added ? 'hid the store and .parallel/ from git (.git/info/exclude)' : '',
    ].filter(Boolean).join('\n');
    return { data: result, text };
  },
});
