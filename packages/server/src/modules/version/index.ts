/** Software Version (XEP-0092): the server's name, version and, if configured, operating system. */
import { readFileSync } from 'node:fs';
import { release, type } from 'node:os';
import { NS, x } from '@parley/xmpp';
import { defineModule } from '../../core/module.js';

/**
 * Reads the version of packages/server from its package.json. This file sits three folders
 * below the package root both as source (src/modules/version) and compiled (dist/modules/version).
 */
export function serverPackageVersion(): string {
  const file = new URL('../../../package.json', import.meta.url);
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof parsed.version !== 'string') throw new Error(`no "version" string in ${file.pathname}`);
  return parsed.version;
}

export const versionModule = defineModule({
  name: 'version',
  specs: [{ spec: 'XEP-0092', version: '1.1', status: 'complete' }],
  setup(ctx) {
    const { config } = ctx.server;
    const version = serverPackageVersion();
    // XEP-0092 section 5: revealing the operating system must be something an administrator can turn off.
    const os = config.server_info.show_os ? `${type()} ${release()}` : undefined;

    ctx.server.disco.addHostFeature(NS.VERSION);
    ctx.iq('get', 'host', NS.VERSION, 'query', () =>
      x(
        'query',
        NS.VERSION,
        {},
        x('name', NS.VERSION, {}, config.server_info.name),
        x('version', NS.VERSION, {}, version),
        os === undefined ? undefined : x('os', NS.VERSION, {}, os),
      ),
    );
  },
});
