/** The upload service of each running server, for the HTTP routes and external service discovery. */
import type { UploadService } from './service.js';
import type { UploadSweeper } from './sweeper.js';

const services = new WeakMap<object, { service: UploadService; sweeper: UploadSweeper }>();

export function attachUploadService(server: object, service: UploadService, sweeper: UploadSweeper): void {
  services.set(server, { service, sweeper });
}

/** Returns the upload service and its sweeper, or undefined when uploads are disabled. */
export function uploadServiceOf(server: object): { service: UploadService; sweeper: UploadSweeper } | undefined {
  return services.get(server);
}
