/**
 * Keeps inbox entries up to date from the messages that pass the server and from read
 * positions. Every change of one account goes through the batch writer, whose queue keeps
 * the order of the changes, and the changed entry is pushed once its write committed.
 */
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { type Element, JID, NS } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { MucMessageEvent, OutboundEvent, ReadPositionEvent, RoutedMessageEvent } from '../../core/events.js';
import { type Database, type InboxConversation, type InboxEntry, type InboxOwner, accountLock } from '../../storage/index.js';
import { correctedStanza, tombstone } from '../mam/edits.js';
import { addStanzaId, archiveIdOf, decodeTime, isServerEntity, originIdOf } from '../mam/ids.js';
import { parseStored, serializeStored } from '../mam/stored.js';
import { type InboxChange, countsAsUnread, inboxChangeOf, isRoomPrivateMessage } from './counting.js';
import type { InboxPushes } from './pushes.js';

/** One account's side of a message: whose inbox, which conversation, and the message's id there. */
interface Side {
  owner: JID;
  conversation: InboxConversation;
  stanzaId: string;
  /** True for the sender's own inbox: the message moves the read position instead of counting. */
  own: boolean;
}

/** A message as the inbox records it in one or more inboxes. */
interface Recorded {
  stanza: Element;
  change: InboxChange;
  /** Bare JID of the sender. */
  sender: string;
}

/** The result of one side's write: the entry after it, and the read position it moved to, if any. */
interface SideOutcome {
  side: Side;
  entry: InboxEntry | undefined;
  movedTo?: string;
}

function ownerKey(owner: JID): InboxOwner {
  return { host: owner.domain, username: owner.local };
}

export class InboxRecorder {
  constructor(
    private readonly server: ServerContext,
    private readonly log: Logger,
    private readonly pushes: InboxPushes,
  ) {}

  /** Handles 'message/sent': the sender's side of a 1:1 message, durable before the sender's stream acknowledges it. */
  sent(event: OutboundEvent): void {
    const { stanza, session } = event;
    const sender = session.jid?.bare();
    if (!sender) return;
    const peer = (event.to ?? sender).bare();
    if (!this.isChatPeer(peer, sender, stanza)) return;

    const stanzaId = archiveIdOf(stanza, sender.toString());
    const change = inboxChangeOf(stanza);
    if (stanzaId === undefined || change.kind === 'none') return;

    const side: Side = { owner: sender, conversation: { jid: peer.toString(), kind: 'chat' }, stanzaId, own: true };
    session.trackWrite(this.recordSent({ stanza, change, sender: sender.toString() }, side, peer));
  }

  /** Records the sender's side unless the recipient has no account, in which case the router bounced the message. */
  private async recordSent(message: Recorded, side: Side, peer: JID): Promise<void> {
    if (await this.server.router.accountExists(peer)) await this.record(message, [side]);
  }

  /** Handles 'message/routed': the recipient's side of a 1:1 message. */
  routed(event: RoutedMessageEvent): void {
    const { stanza } = event;
    const owner = event.to.bare();
    const peer = event.from.bare();
    if (!this.isChatPeer(peer, owner, stanza)) return;

    const stanzaId = archiveIdOf(stanza, owner.toString()) ?? ownStanzaId(stanza, owner);
    const change = inboxChangeOf(stanza);
    if (stanzaId === undefined || change.kind === 'none') return;

    const side: Side = { owner, conversation: { jid: peer.toString(), kind: 'chat' }, stanzaId, own: false };
    const write = this.record({ stanza, change, sender: peer.toString() }, [side]);
    if (event.origin) event.origin.trackWrite(write);
    else write.catch((err: unknown) => this.log.error({ err, owner: owner.toString() }, 'recording an incoming message in the inbox failed'));
  }

  /**
   * Handles 'muc/message': every member's side of a groupchat message, joined or not. A
   * sender who is not a member has no entry for the room.
   */
  group(event: MucMessageEvent): void {
    const change = inboxChangeOf(event.message);
    if (event.stanzaId === undefined || change.kind === 'none') return;

    const sender = event.sender.real.bare();
    const room = event.room.bare();
    const conversation: InboxConversation = { jid: room.toString(), kind: 'groupchat', room: { service: room.domain, name: room.local } };
    const sides = event.members
      .filter((member) => member.domain === this.server.config.domain)
      .map((member): Side => ({ owner: member.bare(), conversation, stanzaId: event.stanzaId!, own: member.bare().equals(sender) }));
    if (sides.length === 0) return;

    // NOTE: the room's own queue sends the message, not a client's session, so this write is not tied to a stream acknowledgement.
    this.record({ stanza: event.message, change, sender: sender.toString() }, sides).catch((err: unknown) =>
      this.log.error({ err, room: room.toString() }, 'recording a groupchat message in the inbox failed'),
    );
  }

  /**
   * Handles 'read/position': moves the read position forward, when the stanza id names a
   * message of the conversation, and drops the unread messages up to it.
   */
  async readPosition(event: ReadPositionEvent): Promise<void> {
    const owner = event.owner.bare();
    if (owner.domain !== this.server.config.domain || owner.local === '') return;
    const conversation = this.conversationOf(event.conversation.bare());
    if (!(await this.isKnownStanzaId(owner, conversation, event.stanzaId))) {
      this.log.debug({ owner: owner.toString(), conversation: conversation.jid, source: event.source }, 'read position names no archived message; ignored');
      return;
    }

    const side: Side = { owner, conversation, stanzaId: event.stanzaId, own: true };
    const outcome = await this.server.storage.batch.write(async (trx) => {
      const cleared = await this.server.storage.inbox.moveRead(trx, ownerKey(owner), conversation, event.stanzaId);
      const entry = await this.entryForPushes(trx, side);
      return { side, entry, movedTo: cleared === undefined ? undefined : event.stanzaId };
    }, { locks: [accountLock(owner.domain, owner.local)] });
    await this.announce([outcome]);
  }

  /** Queues the writes of `message` for every side in one batch write, then pushes and announces the results. */
  private async record(message: Recorded, sides: Side[]): Promise<void> {
    const locks = sides.map((side) => accountLock(side.owner.domain, side.owner.local));
    const outcomes = await this.server.storage.batch.write(async (trx) => {
      const results: SideOutcome[] = [];
      for (const side of sides) results.push(await this.writeSide(trx, message, side));
      return results;
    }, { locks });
    await this.announce(outcomes);
  }

  private async writeSide(trx: Kysely<Database>, message: Recorded, side: Side): Promise<SideOutcome> {
    const { inbox } = this.server.storage;
    const owner = ownerKey(side.owner);
    const { change } = message;
    let movedTo: string | undefined;

    if (change.kind === 'message') {
      const stanza = serializeStored(inboxCopy(message.stanza, side));
      const at = decodeTime(side.stanzaId) ?? Date.now();
      const record = {
        stanzaId: side.stanzaId,
        at,
        sender: message.sender,
        messageId: message.stanza.attr('id'),
        originId: originIdOf(message.stanza),
        stanza,
      };
      await inbox.addMessage(trx, owner, side.conversation, record, countsAsUnread(change, message.sender, side.owner.toString()));
      // A message sent with nothing unread moves the position without 'inbox/read', because
      // announcing it would cost a PEP write per message. Other devices see it in inbox pushes.
      if (side.own && ((await inbox.moveRead(trx, owner, side.conversation, side.stanzaId)) ?? 0) > 0) movedTo = side.stanzaId;
    } else if (change.kind === 'correction' || change.kind === 'retraction') {
      await this.applyEdit(trx, owner, side, message, change);
    }
    return { side, entry: await this.entryForPushes(trx, side), movedTo };
  }

  /** Reads the entry of `side` back when a session of its owner gets pushes. */
  private async entryForPushes(trx: Kysely<Database>, side: Side): Promise<InboxEntry | undefined> {
    if (!this.pushes.hasSubscriber(side.owner)) return undefined;
    return this.server.storage.inbox.get(ownerKey(side.owner), side.conversation.jid, trx);
  }

  /** Applies a correction or retraction to the entry's last message, and a retraction to the unread count. */
  private async applyEdit(
    trx: Kysely<Database>,
    owner: InboxOwner,
    side: Side,
    message: Recorded,
    change: { kind: 'correction' | 'retraction'; ref: string },
  ): Promise<void> {
    const { inbox } = this.server.storage;
    const conversation = side.conversation.jid;
    if (change.kind === 'retraction') await inbox.removeUnread(trx, owner, conversation, message.sender, change.ref);

    const last = await inbox.lastMessageIf(trx, owner, conversation, message.sender, change.ref);
    if (last === undefined) return;
    const original = parseStored(last);
    const replaced = change.kind === 'correction' ? correctedStanza(original, message.stanza) : tombstone(original, message.stanza, Date.now());
    await inbox.replaceLast(trx, owner, conversation, message.sender, change.ref, serializeStored(replaced));
  }

  /** Pushes each changed entry and fires 'inbox/read' for each read position that moved. */
  private async announce(outcomes: SideOutcome[]): Promise<void> {
    for (const { side, entry } of outcomes) {
      if (entry) this.pushes.push(side.owner, entry);
    }
    for (const { side, movedTo } of outcomes) {
      if (movedTo === undefined) continue;
      const event = { owner: side.owner, conversation: JID.parse(side.conversation.jid), stanzaId: movedTo };
      await this.server.hooks
        .fire('inbox/read', event)
        .catch((err: unknown) => this.log.error({ err, owner: side.owner.toString() }, 'inbox/read hook failed'));
    }
  }

  /**
   * True when a 1:1 message between `owner` and `peer` belongs in the inbox: `peer` is
   * another account of this server. Groupchat messages come through 'muc/message', and
   * private messages through a room have no entry of their own.
   */
  private isChatPeer(peer: JID, owner: JID, stanza: Element): boolean {
    if (stanza.attr('type') === 'groupchat' || isRoomPrivateMessage(stanza)) return false;
    // TODO: messages to oneself (notes to self) have no entry yet.
    if (peer.equals(owner)) return false;
    return peer.domain === this.server.config.domain && peer.local !== '';
  }

  /** Returns the conversation of `jid`: a chat for an account of this server, otherwise a room on a subdomain. */
  private conversationOf(jid: JID): InboxConversation {
    if (jid.domain === this.server.config.domain) return { jid: jid.toString(), kind: 'chat' };
    return { jid: jid.toString(), kind: 'groupchat', room: { service: jid.domain, name: jid.local } };
  }

  /** True when `stanzaId` names a message in the archive whose ids are the conversation's read positions. */
  private async isKnownStanzaId(owner: JID, conversation: InboxConversation, stanzaId: string): Promise<boolean> {
    const { storage } = this.server;
    await storage.batch.drained();
    if (conversation.room) {
      const keys = await storage.mucArchive.keysOf({ service: conversation.room.service, room: conversation.room.name }, [stanzaId]);
      return keys.has(stanzaId);
    }
    const keys = await storage.archive.keysOf(owner.domain, owner.local, [stanzaId]);
    return keys.has(stanzaId);
  }
}

/** Returns the `<stanza-id/>` that the archive of `owner` put on an incoming message. */
function ownStanzaId(stanza: Element, owner: JID): string | undefined {
  const by = owner.toString();
  return stanza
    .getChildren('stanza-id', NS.STANZA_ID)
    .find((child) => child.attr('by') === by)
    ?.attr('id');
}

/**
 * Copies a message for one inbox. A chat copy loses the stanza ids of other archives and
 * gets the owner's own. A room's message keeps the room's id, which is the one members use.
 */
function inboxCopy(stanza: Element, side: Side): Element {
  const copy = stanza.clone();
  if (side.conversation.kind !== 'chat') return copy;
  copy.removeChildren((child) => child.name === 'stanza-id' && child.ns === NS.STANZA_ID && isServerEntity(child.attr('by') ?? '', side.owner.domain));
  addStanzaId(copy, side.owner.toString(), side.stanzaId);
  return copy;
}
