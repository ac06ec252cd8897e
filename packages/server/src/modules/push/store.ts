/** Rows of `push_registrations` (XEP-0357): the app servers and nodes each account enabled. */
import type { Kysely } from 'kysely';
import type { FormField } from '@parley/xmpp';

import type { Database } from '../../storage/schema.js';

type PushRegistrationRow = {
  host: string;
  username: string;
  /** The app server's JID, as prepared by JID.toString(). */
  service: string;
  node: string;
  /** The fields of the publish-options data form as JSON, or null when the client sent none. */
  publish_options: string | null;
  enabled_at: number;
};

type PushTables = {
  push_registrations: PushRegistrationRow;
};

/** The account a registration belongs to. */
export interface PushAccount {
  host: string;
  username: string;
}

/** One device's push registration: where notifications for the account go. */
export interface PushRegistration {
  service: string;
  node: string;
  /** Fields of the publish-options form (XEP-0357 section 5); they may hold a secret of the app server. */
  publishOptions: FormField[] | undefined;
}

function parseOptions(stored: string | null): FormField[] | undefined {
  return stored === null ? undefined : (JSON.parse(stored) as FormField[]);
}

/** Queries on `push_registrations`; the table is typed here so that the shared schema stays unchanged. */
export class PushRegistrationStore {
  private readonly db: Kysely<Database & PushTables>;

  constructor(db: Kysely<Database>) {
    this.db = db.withTables<PushTables>();
  }

  /** Returns the account's registrations, ordered by app server and node. */
  async list(account: PushAccount): Promise<PushRegistration[]> {
    const rows = await this.db
      .selectFrom('push_registrations')
      .select(['service', 'node', 'publish_options'])
      .where('host', '=', account.host)
      .where('username', '=', account.username)
      .orderBy('service')
      .orderBy('node')
      .execute();
    return rows.map((row) => ({ service: row.service, node: row.node, publishOptions: parseOptions(row.publish_options) }));
  }

  /** Returns every account of `host` with at least one registration. */
  async accounts(host: string): Promise<string[]> {
    const rows = await this.db.selectFrom('push_registrations').select('username').distinct().where('host', '=', host).execute();
    return rows.map((row) => row.username);
  }

  /**
   * Stores `registration`, replacing the publish options of an earlier one with the same app
   * server and node (XEP-0357 section 5). Returns false without storing when the account
   * already has `max` other registrations.
   */
  async put(account: PushAccount, registration: PushRegistration, max: number, now: number): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('push_registrations')
        .select(['service', 'node'])
        .where('host', '=', account.host)
        .where('username', '=', account.username)
        .execute();
      const replaces = existing.some((row) => row.service === registration.service && row.node === registration.node);
      if (!replaces && existing.length >= max) return false;

      await trx
        .deleteFrom('push_registrations')
        .where('host', '=', account.host)
        .where('username', '=', account.username)
        .where('service', '=', registration.service)
        .where('node', '=', registration.node)
        .execute();
      await trx
        .insertInto('push_registrations')
        .values({
          host: account.host,
          username: account.username,
          service: registration.service,
          node: registration.node,
          publish_options: registration.publishOptions === undefined ? null : JSON.stringify(registration.publishOptions),
          enabled_at: now,
        })
        .execute();
      return true;
    });
  }

  /**
   * Deletes the account's registrations with app server `service`: only the one with `node`
   * when given, else all of them. Returns the nodes deleted.
   */
  async remove(account: PushAccount, service: string, node?: string): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      let query = trx
        .selectFrom('push_registrations')
        .select('node')
        .where('host', '=', account.host)
        .where('username', '=', account.username)
        .where('service', '=', service);
      if (node !== undefined) query = query.where('node', '=', node);
      const nodes = (await query.execute()).map((row) => row.node);
      if (nodes.length === 0) return [];

      let deletion = trx.deleteFrom('push_registrations').where('host', '=', account.host).where('username', '=', account.username).where('service', '=', service);
      if (node !== undefined) deletion = deletion.where('node', '=', node);
      await deletion.execute();
      return nodes;
    });
  }
}
