/**
 * Signs up the benchmark's accounts by in-band registration (XEP-0077), the same way on
 * every server, then logs in once on the same stream. The login checks the account and
 * fills the worker's SCRAM key cache, so the PBKDF2 cost falls here and not in the first
 * measured run.
 */
import { type Account, XmppConnection } from './client.js';
import type { ErrorSummary, RegisterTask } from './protocol.js';
import { ErrorCollector, forEachLimited, sleep } from './util.js';

/** Counts reported by a register task. */
export interface RegisterResult {
  created: number;
  existing: number;
  errors: ErrorSummary;
}

const ATTEMPTS = 3;
const RETRY_DELAY_MS = 500;

/** Registers every account of the task, retrying each a few times. */
export async function runRegister(task: RegisterTask): Promise<RegisterResult> {
  let created = 0;
  let existing = 0;
  const errors = new ErrorCollector();

  await forEachLimited(task.accounts, task.concurrency, async (account) => {
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      try {
        const outcome = await registerOne(task, account);
        if (outcome === 'created') created++;
        else existing++;
        return;
      } catch (err) {
        if (attempt === ATTEMPTS) errors.add(err);
        else await sleep(RETRY_DELAY_MS);
      }
    }
  });
  return { created, existing, errors: errors.summary() };
}

async function registerOne(task: RegisterTask, account: Account): Promise<'created' | 'exists'> {
  const { connection, features } = await XmppConnection.open(task.target);
  try {
    const outcome = await connection.register(account);
    await connection.authenticate(features, account);
    return outcome;
  } finally {
    await connection.close();
  }
}
