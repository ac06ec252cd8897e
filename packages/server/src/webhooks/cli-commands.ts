/** `parleyctl webhook add|list|remove`, which manage webhook endpoints in the database directly. */
import type { Command } from 'commander';
import type { Config } from '../config.js';
import type { Storage } from '../storage/index.js';
import { addEndpoint } from './endpoints.js';

type WithStorage = <T>(work: (storage: Storage, config: Config) => Promise<T>) => Promise<T>;

export function addWebhookCommands(program: Command, withStorage: WithStorage): void {
  const webhook = program.command('webhook').description('manage the endpoints that receive account events as signed HTTP POSTs');

  webhook
    .command('add <url>')
    .description('add an endpoint and print its id and signing secret; the secret cannot be shown again')
    .option('-e, --events <types>', 'comma-separated event types, such as account/created,account/deleted', '*')
    .option('-d, --description <text>', 'a note for administrators')
    .action(async (url: string, options: { events: string; description?: string }) => {
      const events = options.events.split(',').map((type) => type.trim()).filter((type) => type !== '');
      const endpoint = await withStorage((storage, cfg) => addEndpoint(storage, cfg, { url, events, description: options.description ?? null }));
      console.error(`added webhook ${endpoint.id} for ${endpoint.url}; store the signing secret now:`);
      console.log(`${endpoint.id}\t${endpoint.secret}`);
    });

  webhook
    .command('list')
    .description('list endpoints: id, URL, event types, enabled or disabled')
    .action(async () => {
      const endpoints = await withStorage((storage) => storage.webhooks.listEndpoints({ limit: 10_000 }));
      for (const endpoint of endpoints) {
        console.log(`${endpoint.id}\t${endpoint.url}\t${endpoint.events.join(',')}\t${endpoint.enabled ? 'enabled' : 'disabled'}`);
      }
      console.error(`${endpoints.length} webhook(s)`);
    });

  webhook
    .command('remove <id>')
    .description('remove an endpoint and its queued deliveries')
    .action(async (id: string) => {
      const removed = await withStorage((storage) => storage.webhooks.deleteEndpoint(id));
      if (!removed) throw new Error(`no webhook with id ${id}; see parleyctl webhook list`);
      console.log(`removed webhook ${id}`);
    });
}
