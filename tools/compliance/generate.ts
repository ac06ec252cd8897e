/**
 * Generates docs/compliance.md: starts a Parley server on 127.0.0.1, collects what it
 * advertises and checks it against the XEP-0479 requirement table.
 *
 * Run: npm run compliance [-- --out FILE]
 * (that is `tsx --conditions=source tools/compliance/generate.ts`, so that the workspace
 * packages load from their TypeScript sources.)
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { startTestServer } from '../../test/support/server.js';
import { evaluate } from './evaluate.js';
import { observe } from './observe.js';
import { PROBE_COMPONENT } from './probes.js';
import { renderPage } from './render.js';
import { REQUIREMENTS } from './requirements.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const DOC_FILE = path.join(REPO_ROOT, 'docs/compliance.md');

/** Starts a server with the default modules, one external component and federation, and returns the page text. */
export async function generateCompliancePage(): Promise<string> {
  const server = await startTestServer({
    listen: { component_port: 0, s2s_port: 0 },
    components: [PROBE_COMPONENT],
    // Federation is on so that the s2s port can be read; the generator never connects out.
    s2s: { enabled: true },
  });
  try {
    const observations = await observe(server);
    const verdicts = REQUIREMENTS.map((requirement) => evaluate(requirement, observations, REPO_ROOT));
    return renderPage(verdicts, observations);
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string', default: DOC_FILE } } });
  const resolved = import.meta.resolve('@parley/xmpp');
  if (!resolved.endsWith('.ts')) {
    throw new Error(`@parley/xmpp resolved to ${resolved}, a build that may be stale; run "npm run compliance" or "npx tsx --conditions=source tools/compliance/generate.ts"`);
  }

  const page = await generateCompliancePage();
  await writeFile(values.out, page);
  console.log(`wrote ${path.relative(process.cwd(), values.out) || values.out}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
