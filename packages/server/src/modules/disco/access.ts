/** Access rule for the replies the server sends on an account's behalf (XEP-0030 section 8). */
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';

/**
 * Returns true when the sender of an IQ to a bare JID may get the server's reply on the
 * account's behalf: the account itself, or an entity that the account shares its presence
 * with (subscription "from" or "both"). Everyone else should get the error that a missing
 * account gets, so that the reply does not reveal which accounts exist.
 */
export async function maySeeAccount(server: ServerContext, { from, to, self }: Pick<IqRequest, 'from' | 'to' | 'self'>): Promise<boolean> {
  if (self) return true;
  const item = await server.storage.roster.get(to.domain, to.local, from.bare().toString());
  return item?.subscription === 'from' || item?.subscription === 'both';
}
