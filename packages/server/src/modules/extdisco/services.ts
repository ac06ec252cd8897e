/**
 * Results of external service discovery (XEP-0215). `<services/>` lists the configured
 * `[[external_services]]` and the upload service, and `<credentials/>` returns the
 * credentials of named services. Only accounts of this server may send these requests.
 */
import { type Element, StanzaError, x } from '@parley/xmpp';
import type { Config } from '../../config.js';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import { uploadServiceOf } from '../upload/index.js';
import { SERVICE_NAME as UPLOAD_NAME } from '../upload/service.js';
import { type TurnCredentials, turnCredentials } from './turn-credentials.js';

export const NS_EXTDISCO = 'urn:xmpp:extdisco:2';

/** The type under which the upload service is listed; the XEP-0215 registry names no type for HTTP. */
export const UPLOAD_SERVICE_TYPE = 'http';

type ExternalService = Config['external_services'][number];

export function servicesResult(server: ServerContext, request: IqRequest): Element {
  const account = authorize(server, request);
  const type = request.payload.attr('type');
  const now = Date.now();
  const services = server.config.external_services.filter((service) => type === undefined || service.type === type).map((service) => serviceElement(service, account, now));
  const upload = uploadElement(server);
  if (upload && (type === undefined || type === UPLOAD_SERVICE_TYPE)) services.push(upload);
  return x('services', NS_EXTDISCO, type === undefined ? {} : { type }, ...services);
}

export function credentialsResult(server: ServerContext, request: IqRequest): Element {
  const account = authorize(server, request);
  const requested = request.payload.getChildren('service', NS_EXTDISCO);
  if (requested.length === 0) throw new StanzaError('bad-request', 'Name the service with <service host type/>.');

  const now = Date.now();
  const results: Element[] = [];
  for (const entry of requested) {
    const host = entry.attr('host');
    const type = entry.attr('type');
    if (!host || !type) throw new StanzaError('bad-request', 'Each <service/> needs host and type attributes.');
    const port = entry.attr('port');
    const matching = server.config.external_services.filter((service) => service.host === host && service.type === type && service.secret !== '' && (port === undefined || String(service.port) === port));
    for (const service of matching) results.push(serviceElement(service, account, now));
  }
  if (results.length === 0) throw new StanzaError('item-not-found', 'No service with credentials matches.');
  return x('credentials', NS_EXTDISCO, {}, ...results);
}

/** Returns the requester's bare JID; anything but an account of this server gets forbidden. */
function authorize(server: ServerContext, request: IqRequest): string {
  const { from } = request;
  if (from.domain !== server.config.domain || from.local === '') throw new StanzaError('forbidden', `Only accounts of ${server.config.domain} may discover external services.`);
  return `${from.local}@${from.domain}`;
}

function serviceElement(service: ExternalService, account: string, now: number): Element {
  const attrs: Record<string, string | undefined> = {
    type: service.type,
    host: service.host,
    port: String(service.port),
    transport: service.transport || undefined,
    name: service.name || undefined,
  };
  if (service.secret !== '') Object.assign(attrs, credentialAttrs(turnCredentials(service.secret, account, now, service.credential_ttl_s)));
  return x('service', NS_EXTDISCO, attrs);
}

function credentialAttrs(credentials: TurnCredentials): Record<string, string> {
  return { username: credentials.username, password: credentials.password, expires: credentials.expires, restricted: 'true' };
}

/** Builds the entry of the upload service's HTTP endpoint, so that clients that look here find it too. */
function uploadElement(server: ServerContext): Element | undefined {
  const attached = uploadServiceOf(server);
  if (!attached) return undefined;
  const url = new URL(attached.service.publicBase());
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return x('service', NS_EXTDISCO, { type: UPLOAD_SERVICE_TYPE, host: url.hostname, port, transport: 'tcp', name: UPLOAD_NAME });
}
