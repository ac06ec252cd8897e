/** HTTP file upload (XEP-0363): the service at upload.DOMAIN; the files are served by net/upload-http.ts. */
import path from 'node:path';
import { defineModule } from '../../core/module.js';
import { DiskFileStore } from '../../files/index.js';
import { attachUploadService } from './registry.js';
import { SERVICE_NAME, UploadService } from './service.js';
import { UploadSweeper } from './sweeper.js';

export { uploadServiceOf } from './registry.js';
export { type Slot, UPLOAD_PATH, UploadService, hashSecret } from './service.js';
export { NS_UPLOAD } from './slot-request.js';

export const uploadModule = defineModule({
  name: 'upload',
  depends: ['disco'],
  specs: [
    {
      spec: 'XEP-0363',
      version: '1.1.0',
      status: 'complete',
      note: 'slots for local accounts with size, type, quota and rate limits; PUT with a bearer secret; ranges, thumbnails and CORS on download',
    },
  ],
  async setup(ctx) {
    const { server } = ctx;
    const { upload, domain, data_dir } = server.config;
    if (!upload.enabled) return;

    const store = new DiskFileStore(upload.path || path.join(data_dir, 'uploads'));
    // Other cluster nodes that share the folder and the table may have uploads running.
    const alone = (server.cluster?.otherNodes().length ?? 0) === 0;
    await store.init(alone);
    // A slot whose PUT was running when the process stopped may be used again within its lifetime.
    // TODO: in a cluster, release the slots of this node's stopped uploads too, which needs the node in the slot row.
    if (alone) await server.storage.uploads.releaseAll();

    const service = new UploadService(server, (upload.domain || `upload.${domain}`).toLowerCase(), store, ctx.log);
    const sweeper = new UploadSweeper(service);
    attachUploadService(server, service, sweeper);
    server.router.addDomain(service.domain, (event) => service.handle(event));
    server.disco.hostItems.push({ jid: service.domain, name: SERVICE_NAME });

    ctx.on('account/deleted', async ({ host, username }) => {
      if (host === domain) await service.deleteAccountUploads(host, username);
    });
    sweeper.start();
  },
});
