import { defineStore } from 'pinia';
import { forgetCredentials, loadCredentials, saveCredentials } from '../data/credentials.js';
import { deleteAccountDb } from '../data/schema.js';
import { XmppAuthError, type ConnectionStatus } from '../xmpp/index.js';
import { browserConnector, serviceUrl, type Connection, type Connector, type SignInRequest } from './connector.js';
import { completeJid } from './protocol/domain.js';
import { isBareJid } from './protocol/jid.js';
import { maybeServices, setServices, type AccountServices } from './services.js';
import { useSettings } from './settings.js';
import { startAccountStores, stopAccountStores } from './account-stores.js';
import { startOrGoOffline } from '../pwa/offline-start.js';

export type SessionPhase = 'signed-out' | 'signing-in' | 'signed-in';

/** Why sign-in failed: an i18n key and, for unexpected errors, the error text. */
export interface SignInError {
  key: 'signIn.invalidJid' | 'signIn.failed' | 'signIn.unreachable' | 'signIn.expired';
  message?: string;
}

let connector: Connector = browserConnector;

/** Replaces how accounts connect (tests connect with the `ws` package in Node). */
export function useConnector(replacement: Connector): void {
  connector = replacement;
}

export const useSession = defineStore('session', {
  state: () => ({
    phase: 'signed-out' as SessionPhase,
    status: 'offline' as ConnectionStatus,
    jid: '',
    error: undefined as SignInError | undefined,
    syncing: false,
    syncFailed: false,
  }),
  getters: {
    bareJid: (state) => state.jid.split('/')[0]?.toLowerCase() ?? '',
    online: (state) => state.status === 'online',
  },
  actions: {
    /** Signs in with a password; resolves true once the session is online and the account's stores are running. */
    async signIn(server: string, jid: string, password: string, keep = useSettings().keepSignedIn): Promise<boolean> {
      const account = (await completeJid(jid, server).catch(() => jid.trim())).toLowerCase();
      if (!isBareJid(account)) {
        this.error = { key: 'signIn.invalidJid' };
        return false;
      }
      this.error = undefined;
      return this.open(server, { jid: account, password }, keep);
    },

    /**
     * Signs in without a password after a reload or in a new tab: joins the session another tab
     * of the last account holds, or logs in with the keys "keep me signed in" stored.
     */
    async resume(): Promise<boolean> {
      const settings = useSettings();
      const account = settings.lastJid.trim().toLowerCase();
      if (this.phase !== 'signed-out' || !isBareJid(account)) return false;
      this.phase = 'signing-in';

      const stored = await loadCredentials(account).catch((err: unknown) => console.warn('reading the stored keys failed', err));
      if (stored) return this.open(stored.server, { jid: account, keys: stored.keys, fast: stored.fast }, true);
      return this.joinLiveSession(settings.lastServer || location.origin, account);
    },

    /** Attaches to the connection of another tab when it is live; otherwise shows sign-in. */
    async joinLiveSession(server: string, account: string): Promise<boolean> {
      let connection: Connection;
      try {
        connection = connector({ service: serviceUrl(server), jid: account });
      } catch {
        this.phase = 'signed-out';
        return false;
      }
      const status = await connection.hostStatus?.();
      if (status === undefined || status === 'offline' || status === 'auth-failed') {
        connection.discard();
        this.phase = 'signed-out';
        return false;
      }
      return this.open(server, { jid: account }, useSettings().keepSignedIn, connection);
    },

    /** Starts the connection and, once online, the account's data and stores. */
    async open(server: string, credentials: Omit<SignInRequest, 'service'>, keep: boolean, existing?: Connection): Promise<boolean> {
      this.phase = 'signing-in';
      const account = credentials.jid;
      let connection;
      try {
        connection = existing ?? connector({ service: serviceUrl(server), ...credentials, keep });
      } catch (err) {
        return this.fail({ key: 'signIn.unreachable', message: String(err) });
      }

      const { client } = connection;
      const stopStatus = client.on('status', (status) => {
        this.status = status;
        if (status === 'auth-failed') void forgetCredentials(account).catch(() => undefined);
        // Opened offline on stored keys, the login can still fail once the network is back.
        if (status === 'auth-failed' && this.phase === 'signed-in') void this.signOut(false).then(() => (this.error = { key: 'signIn.expired' }));
      });
      let offline = false;
      try {
        // Signed in from stored credentials, the account opens on its stored data while the server cannot be reached.
        if (credentials.password === undefined && !existing) offline = (await startOrGoOffline(client)) === 'offline';
        else await client.start();
      } catch (err) {
        stopStatus();
        const rejected = err instanceof XmppAuthError || client.status === 'auth-failed';
        await client.stop().catch(() => undefined);
        connection.discard();
        if (rejected && credentials.password === undefined) {
          await forgetCredentials(account).catch(() => undefined);
          return this.fail({ key: 'signIn.expired' });
        }
        return this.fail(rejected ? { key: 'signIn.failed' } : { key: 'signIn.unreachable', message: err instanceof Error ? err.message : String(err) });
      }

      const services: AccountServices = { client, ...connection.openData(), cleanups: [stopStatus, () => connection.discard()] };
      setServices(services);
      this.status = client.status;
      this.jid = client.jid;
      this.phase = 'signed-in';
      useSettings().update({ lastJid: account, lastServer: server });
      void this.rememberKeys(server, account, keep);
      startAccountStores();
      if (offline) this.syncWhenOnline(services);
      else void this.sync();
      return true;
    },

    /** Runs the start-up sync once the connection that was down at sign-in comes up. */
    syncWhenOnline(services: AccountServices): void {
      const stop = services.client.on('online', () => {
        stop();
        if (maybeServices() === services) void this.sync();
      });
      services.cleanups.push(stop);
    },

    /** Stores the session's SCRAM keys for "keep me signed in", or removes any stored before. */
    async rememberKeys(server: string, account: string, keep: boolean): Promise<void> {
      const keys = maybeServices()?.client.scramKeys;
      try {
        if (keep && keys) await saveCredentials({ jid: account, server, keys });
        else if (!keep) await forgetCredentials(account);
      } catch (err) {
        console.warn('storing the sign-in keys failed', err);
      }
    },

    /** Runs the data layer's start-up sync (inbox, then the archive of open conversations). */
    async sync(): Promise<void> {
      const services = maybeServices();
      if (!services) return;
      this.syncing = true;
      this.syncFailed = false;
      try {
        await services.chat.startupSync();
      } catch (err) {
        console.error('start-up sync failed', err);
        this.syncFailed = true;
      } finally {
        this.syncing = false;
      }
    },

    /** Signs out: closes the stream, and deletes the local database when `forget` is true. */
    async signOut(forget = useSettings().forgetOnSignOut): Promise<void> {
      const services = maybeServices();
      const bare = this.bareJid;
      setServices(undefined);
      stopAccountStores();
      if (services) {
        services.chat.close();
        await services.client.stop().catch((err: unknown) => console.error('closing the stream failed', err));
        services.cleanups.forEach((cleanup) => cleanup());
        services.db.close();
        if (forget && bare) await deleteAccountDb(bare);
      }
      if (bare) await forgetCredentials(bare).catch((err: unknown) => console.warn('deleting the stored keys failed', err));
      this.$reset();
    },

    fail(error: SignInError): false {
      this.phase = 'signed-out';
      this.error = error;
      return false;
    },
  },
});
