import type { ServerModule } from '../core/module.js';
import { discoModule } from './disco/index.js';
import { rosterModule } from './roster/index.js';
import { presenceModule } from './presence/index.js';
import { offlineModule } from './offline/index.js';
import { mamModule } from './mam/index.js';
import { vcardModule } from './vcard/index.js';
import { privateStorageModule } from './private/index.js';
import { pingModule } from './ping/index.js';
import { timeModule } from './time/index.js';
import { versionModule } from './version/index.js';
import { registerModule } from './register/index.js';
import { csiModule } from './csi/index.js';
import { carbonsModule } from './carbons/index.js';
import { blockingModule } from './blocking/index.js';
import { mucModule } from './muc/index.js';
import { pepModule } from './pep/index.js';
import { markersModule } from './markers/index.js';
import { inboxModule } from './inbox/index.js';
import { pushModule } from './push/index.js';
import { directoryModule } from './directory/index.js';
import { sharedRosterModule } from './shared-roster/index.js';
import { anonymousModule } from './anonymous/index.js';
import { uploadModule } from './upload/index.js';
import { extdiscoModule } from './extdisco/index.js';

/** Every module, in the order they are set up (dependencies first). */
export const allModules: ServerModule[] = [
  discoModule,
  rosterModule,
  presenceModule,
  offlineModule,
  mamModule,
  carbonsModule,
  blockingModule,
  vcardModule,
  privateStorageModule,
  pingModule,
  timeModule,
  versionModule,
  registerModule,
  csiModule,
  mucModule,
  pepModule,
  markersModule,
  inboxModule,
  pushModule,
  directoryModule,
  sharedRosterModule,
  anonymousModule,
  uploadModule,
  extdiscoModule,
];
