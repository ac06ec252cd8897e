#!/usr/bin/env node
import { existsSync, mkdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { XmppServer } from './core/server.js';

const DEFAULT_CONFIG_FILE = 'parley.toml';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' } } });
  const file = values.config ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  const config = loadConfig({ file });
  const log = createLogger(config.log.level);
  mkdirSync(config.data_dir, { recursive: true });

  const server = await XmppServer.create(config, log);
  await server.listen();
  log.info({ domain: config.domain, config: file ?? '(defaults)', ...server.addresses }, 'parley started');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(`parley: ${err.message}`);
    process.exit(2);
  }
  console.error('parley: failed to start:', err);
  process.exit(1);
});
