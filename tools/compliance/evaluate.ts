/** Compares the requirement table with what the server advertised. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Entity, Evidence, Requirement, Stage } from './requirements.js';
import type { Observations } from './observe.js';

export type Status = 'supported' | 'partial' | 'missing';

export interface CheckedEvidence {
  evidence: Evidence;
  ok: boolean;
  /** The evidence in words, as the generated page shows it. */
  text: string;
}

export interface Verdict {
  requirement: Requirement;
  status: Status;
  checks: CheckedEvidence[];
}

/**
 * Checks each piece of evidence. A requirement is supported when all of it holds,
 * partial when some of it holds, and missing when none does.
 */
export function evaluate(requirement: Requirement, observations: Observations, repoRoot: string): Verdict {
  const checks = requirement.evidence.map((evidence) => checkEvidence(evidence, observations, repoRoot));
  const passed = checks.filter((check) => check.ok).length;
  let status: Status = 'partial';
  if (passed === checks.length) status = 'supported';
  else if (passed === 0) status = 'missing';
  return { requirement, status, checks };
}

function checkEvidence(evidence: Evidence, observations: Observations, repoRoot: string): CheckedEvidence {
  switch (evidence.kind) {
    case 'feature': {
      const info = observations.disco[evidence.entity];
      if (!info) return { evidence, ok: false, text: notFound(evidence.entity) };
      return { evidence, ok: info.features.includes(evidence.feature), text: `\`${evidence.feature}\` on ${entityName(evidence.entity)}` };
    }
    case 'identity': {
      const info = observations.disco[evidence.entity];
      if (!info) return { evidence, ok: false, text: notFound(evidence.entity) };
      const ok = info.identities.some((id) => id.category === evidence.category && id.type === evidence.type);
      return { evidence, ok, text: `identity ${evidence.category}/${evidence.type} on ${entityName(evidence.entity)}` };
    }
    case 'stream': {
      const ok = observations.streamFeatures[evidence.stage].some((el) => el.name === evidence.name && el.ns === evidence.ns);
      return { evidence, ok, text: `stream feature \`<${evidence.name} xmlns='${evidence.ns}'/>\` ${STAGE_NAMES[evidence.stage]}` };
    }
    case 'probe': {
      const result = observations.probes[evidence.probe];
      return { evidence, ok: result.ok, text: result.detail };
    }
    case 'test': {
      const ok = existsSync(path.join(repoRoot, evidence.file));
      return { evidence, ok, text: ok ? `\`${evidence.file}\`: ${evidence.covers}` : `\`${evidence.file}\` does not exist` };
    }
    case 'gap':
      return { evidence, ok: false, text: evidence.text };
  }
}

const STAGE_NAMES: Record<Stage, string> = {
  'pre-tls': 'before STARTTLS',
  'pre-auth': 'before authentication',
  'sasl2-inline': 'inside SASL2 `<authentication/>`',
  'post-auth': 'after authentication',
  's2s-pre-tls': 'on a server-to-server stream before STARTTLS',
  's2s-post-tls': 'on a server-to-server stream after STARTTLS',
};

function notFound(entity: Entity): string {
  if (entity === 'room') return 'no MUC room, because the server lists no MUC service';
  return `the server's disco#items lists no ${entityName(entity).replace(/^(the|an|a) /, '')}`;
}

function entityName(entity: Entity): string {
  switch (entity) {
    case 'host':
      return 'the server domain';
    case 'account':
      return "the account's bare JID";
    case 'muc':
      return 'the MUC service';
    case 'room':
      return 'a MUC room';
    case 'directory':
      return 'the user directory';
    case 'upload':
      return 'an upload service';
  }
}
