/**
 * Decides which devices a message notifies:
 * - a 1:1 message delivered to sessions notifies the devices of those sessions that
 *   hibernate (XEP-0198), and none while every receiving session is connected;
 * - a 1:1 message stored offline notifies every device whose session is not connected;
 * - a groupchat message notifies a member of the room, other than its sender, only when
 *   no session of the member is connected (the case in which the inbox counts it unread
 *   and no client shows it), and then every device of the member.
 * Messages from the account itself (carbons of its own messages, notes to self) never notify.
 */
import type { Logger } from 'pino';
import type { Element, JID } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { MucMessageEvent, RoutedMessageEvent } from '../../core/events.js';
import { type PushContent, pushContentOf } from './importance.js';
import { type PushRegistry, deviceKey } from './registry.js';
import type { PushRegistration } from './store.js';
import type { PushSummaries } from './summaries.js';

/** The registrations of the account that a message is for. */
type DeviceSelection = { kind: 'keys'; keys: ReadonlySet<string> } | { kind: 'not-connected' };

export class PushTriggers {
  constructor(
    private readonly registry: PushRegistry,
    private readonly summaries: PushSummaries,
    private readonly log: Logger,
  ) {}

  /** Handles 'message/routed' for 1:1 and room private messages. */
  routed(event: RoutedMessageEvent): void {
    const { stanza } = event;
    const account = event.to.bare();
    if (stanza.attr('type') === 'groupchat' || !this.registry.mayHave(account)) return;
    if (event.from.bare().equals(account)) return;
    const content = pushContentOf(stanza);
    if (content === undefined) return;

    // TODO: devices of sessions on other cluster nodes; those nodes keep the ties to their sessions.
    if (event.delivered.length === 0 && (event.deliveredRemote?.length ?? 0) > 0) return;
    let selection: DeviceSelection;
    if (event.delivered.length === 0) {
      selection = { kind: 'not-connected' };
    } else {
      const keys = new Set(event.delivered.filter((session) => session.hibernating).flatMap((session) => [...this.registry.devicesOf(session)]));
      if (keys.size === 0) return;
      selection = { kind: 'keys', keys };
    }
    this.notify(account, event.from.toString(), content, selection);
  }

  /**
   * Handles 'session/hibernated': the messages the client never acknowledged reached a
   * connection that died silently, so the session's devices get them as a notification.
   */
  hibernated(session: ClientSession, unacked: Element[]): void {
    // TODO: groupchat messages in the queue; telling the member's own reflections apart needs the room's nick.
    const account = session.jid?.bare();
    if (account === undefined || !this.registry.mayHave(account)) return;
    const keys = this.registry.devicesOf(session);
    if (keys.size === 0) return;

    for (const stanza of unacked) {
      if (stanza.name !== 'message' || stanza.attr('type') === 'groupchat') continue;
      const from = stanza.attr('from');
      if (from === undefined || from === '' || from.split('/')[0] === account.toString()) continue;
      const content = pushContentOf(stanza);
      if (content !== undefined) this.notify(account, from, content, { kind: 'keys', keys });
    }
  }

  /** Handles 'muc/message': notifies members that are not connected. */
  group(event: MucMessageEvent): void {
    const content = pushContentOf(event.message);
    if (content === undefined) return;

    const sender = event.sender.real.bare();
    const occupant = `${event.room.bare().toString()}/${event.sender.nick}`;
    for (const member of event.members) {
      const account = member.bare();
      if (account.equals(sender) || !this.registry.mayHave(account)) continue;
      if (this.registry.hasConnectedSession(account)) continue;
      // TODO: skip rooms that the member muted in the inbox.
      this.notify(account, occupant, content, { kind: 'not-connected' });
    }
  }

  private notify(account: JID, sender: string, content: PushContent, selection: DeviceSelection): void {
    this.selectDevices(account, selection)
      .then((registrations) => {
        for (const registration of registrations) this.summaries.add(account, registration, sender, content);
      })
      .catch((err: unknown) => this.log.error({ err, account: account.toString() }, 'reading push registrations failed'));
  }

  private async selectDevices(account: JID, selection: DeviceSelection): Promise<PushRegistration[]> {
    const registrations = await this.registry.list(account);
    if (selection.kind === 'keys') return registrations.filter((registration) => selection.keys.has(deviceKey(registration)));

    // Read after the await, so that a session that connected meanwhile counts.
    const connected = this.registry.connectedDevices(account);
    return registrations.filter((registration) => !connected.has(deviceKey(registration)));
  }
}
