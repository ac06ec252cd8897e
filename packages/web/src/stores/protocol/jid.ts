/** JID helpers for the UI: split, compare, and display a JID's local part. */

export function bare(jid: string): string {
  const slash = jid.indexOf('/');
  return (slash < 0 ? jid : jid.slice(0, slash)).toLowerCase();
}

export function resource(jid: string): string | undefined {
  const slash = jid.indexOf('/');
  return slash < 0 ? undefined : jid.slice(slash + 1);
}

export function localPart(jid: string): string {
  const at = jid.indexOf('@');
  return at < 0 ? bare(jid) : jid.slice(0, at);
}

export function domainPart(jid: string): string {
  const b = bare(jid);
  return b.slice(b.indexOf('@') + 1);
}

/** Checks for a bare JID of the form local@domain without spaces. The server checks the rest. */
export function isBareJid(text: string): boolean {
  return /^[^@/\s]+@[^@/\s]+$/.test(text);
}
