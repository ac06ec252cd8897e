import type { Command } from 'commander';

import type { Config } from '../config.js';
import type { Storage } from '../storage/index.js';
import { createApiToken } from './tokens.js';

type WithStorage = <T>(work: (storage: Storage, config: Config) => Promise<T>) => Promise<T>;

/** Adds `parleyctl token create|list|revoke`, which manage admin API tokens in the database directly. */
export function addTokenCommands(program: Command, withStorage: WithStorage): void {
  const token = program.command('token').description('manage bearer tokens of the admin REST API (/api/v1)');

  token
    .command('create')
    .description('create a token and print it once; only its hash is stored')
    .requiredOption('-n, --name <name>', 'what the token is for, such as the script that uses it')
    .action(async (options: { name: string }) => {
      const created = await withStorage((storage) => createApiToken(storage, options.name));
      console.error(`created token ${created.id} (${created.name}); store it now, it cannot be shown again:`);
      console.log(created.token);
    });

  token
    .command('list')
    .description('list tokens: id, name, created, last used (to the minute), revoked')
    .action(async () => {
      const tokens = await withStorage((storage) => storage.apiTokens.list());
      for (const entry of tokens) {
        const lastUsed = entry.lastUsedAt === null ? 'never used' : `last used ${iso(entry.lastUsedAt)}`;
        const state = entry.revokedAt === null ? 'active' : `revoked ${iso(entry.revokedAt)}`;
        console.log(`${entry.id}\t${entry.name}\tcreated ${iso(entry.createdAt)}\t${lastUsed}\t${state}`);
      }
      console.error(`${tokens.length} token(s)`);
    });

  token
    .command('revoke <id>')
    .description('revoke a token; requests with it fail from then on')
    .action(async (id: string) => {
      const revoked = await withStorage((storage) => storage.apiTokens.revoke(id));
      if (!revoked) throw new Error(`no active token with id ${id}; see parleyctl token list`);
      console.log(`revoked token ${id}`);
    });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
