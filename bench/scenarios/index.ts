/** The benchmark's scenarios, in the order they run, and the ones planned for later. */
import { idleScenario } from './idle.js';
import { loginsScenario } from './logins.js';
import { messagesScenario } from './messages.js';
import type { Scenario } from './types.js';

/** Scenarios that run today; `--scenario all` runs these in this order. */
export const SCENARIOS: Scenario[] = [loginsScenario, idleScenario, messagesScenario];

/**
 * Scenarios that need server features not built yet, with what each is waiting for.
 * To add one, write it like messages.ts (a task in bench/load/, a Scenario here) and
 * move it to SCENARIOS.
 */
export const PLANNED_SCENARIOS: Record<string, string> = {
  // TODO: group fan-out: N rooms of M occupants, one message per room per interval, delivery rate and latency to every occupant. Needs group chat (XEP-0045) in Parley.
  fanout: 'group chat fan-out; waits for group chat (XEP-0045) in Parley',
  // TODO: archive queries: XEP-0313 queries with RSM paging over a pre-filled archive, queries per second and latency. Needs the message archive in Parley.
  archive: 'message archive queries; waits for the message archive (XEP-0313) in Parley',
};

/** Returns the scenarios named by `--scenario`: "all" or a comma-separated list. Throws on an unknown or planned name. */
export function selectScenarios(selection: string): Scenario[] {
  if (selection === 'all') return SCENARIOS;
  return selection.split(',').map((name) => {
    const scenario = SCENARIOS.find((candidate) => candidate.name === name.trim());
    if (scenario) return scenario;
    const planned = PLANNED_SCENARIOS[name.trim()];
    if (planned) throw new Error(`scenario "${name}" is not available yet: ${planned}`);
    throw new Error(`unknown scenario "${name}"; expected all, ${SCENARIOS.map((s) => s.name).join(', ')}`);
  });
}
