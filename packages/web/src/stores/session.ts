import { defineStore } from 'pinia';
import { deleteAccountDb } from '../data/schema.js';
import { XmppAuthError, type ConnectionStatus } from '../xmpp/index.js';
import { browserConnector, serviceUrl, type Connector } from './connector.js';
import { isBareJid } from './protocol/jid.js';
import { maybeServices, setServices, type AccountServices } from './services.js';
import { useSettings } from './settings.js';
import { startAccountStores, stopAccountStores } from './account-stores.js';

export type SessionPhase = 'signed-out' | 'signing-in' | 'signed-in';

/** Why sign-in failed: an i18n key and, for unexpected errors, the error text. */
export interface SignInError {
  key: 'signIn.invalidJid' | 'signIn.failed' | 'signIn.unreachable';
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
    /** Signs in; resolves true once the session is online and the account's stores are running. */
    async signIn(server: string, jid: string, password: string): Promise<boolean> {
      const account = jid.trim().toLowerCase();
      if (!isBareJid(account)) {
        this.error = { key: 'signIn.invalidJid' };
        return false;
      }

      this.phase = 'signing-in';
      this.error = undefined;
      let connection;
      try {
        connection = connector({ service: serviceUrl(server), jid: account, password });
      } catch (err) {
        return this.fail({ key: 'signIn.unreachable', message: String(err) });
      }

      const { client } = connection;
      const stopStatus = client.on('status', (status) => (this.status = status));
      try {
        await client.start();
      } catch (err) {
        stopStatus();
        const wrongPassword = err instanceof XmppAuthError || client.status === 'auth-failed';
        await client.stop().catch(() => undefined);
        connection.discard();
        return this.fail(wrongPassword ? { key: 'signIn.failed' } : { key: 'signIn.unreachable', message: err instanceof Error ? err.message : String(err) });
      }

      const services: AccountServices = { client, ...connection.openData(), cleanups: [stopStatus, () => connection.discard()] };
      setServices(services);
      this.status = client.status;
      this.jid = client.jid;
      this.phase = 'signed-in';
      useSettings().update({ lastJid: account, lastServer: server });
      startAccountStores(services);
      void this.sync();
      return true;
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
      this.$reset();
    },

    fail(error: SignInError): false {
      this.phase = 'signed-out';
      this.error = error;
      return false;
    },
  },
});
