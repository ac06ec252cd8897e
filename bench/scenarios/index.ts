/** The benchmark's scenarios, in the order they run, and the ones planned for later. */
import { archiveScenario } from './archive.js';
import { fanoutScenario } from './fanout.js';
import { idleScenario } from './idle.js';
import { loginsScenario } from './logins.js';
import { messagesScenario } from './messages.js';
import type { Scenario } from './types.js';

/** Scenarios that run today; `--scenario all` runs these in this order. */
export const SCENARIOS: Scenario[] = [loginsScenario, idleScenario, messagesScenario, fanoutScenario, archiveScenario];

/**
 * Scenarios that need server features not built yet, with what each is waiting for.
 * To add one, write it like messages.ts (a task in bench/load/, a Scenario here) and
 * list it in SCENARIOS.
 */
export const PLANNED_SCENARIOS: Record<string, string> = {};

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
