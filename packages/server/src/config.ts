import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Type, type Static, type TSchema, type TObject } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { parse as parseToml } from 'smol-toml';
import { addressRangeError } from './net/trusted-proxies.js';

const Port = (value: number, description: string) =>
  Type.Union([Type.Literal(false), Type.Integer({ minimum: 0, maximum: 65535 })], {
    default: value,
    description: `${description}; 0 lets the system pick a free port, false disables the listener`,
  });

export const ConfigSchema = Type.Object(
  {
    domain: Type.String({ minLength: 1, default: 'localhost', description: 'XMPP domain served (the part after @)' }),
    data_dir: Type.String({ minLength: 1, default: './data', description: 'folder for the database, certificates and files' }),
    listen: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1', description: 'address every listener binds to' }),
        c2s_port: Port(5222, 'TCP client port with STARTTLS'),
        c2s_tls_port: Port(5223, 'TCP client port with direct TLS (XEP-0368)'),
        http_port: Port(5280, 'HTTP port (WebSocket, host-meta)'),
        https_port: Port(5443, 'HTTPS port'),
        component_host: Type.String({ default: '127.0.0.1', description: 'address the external component listener (XEP-0114) binds to' }),
        component_port: Port(5347, 'external component port (XEP-0114), opened only when [[components]] are configured'),
        s2s_port: Port(5269, 'server-to-server port (STARTTLS, and direct TLS of XEP-0368 on the same port), opened only when [s2s] enabled is true'),
        proxy_protocol_from: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description:
            'addresses or CIDR ranges of load balancers that send the PROXY protocol (v1 or v2) on the two client ports; a connection from one must start with a PROXY header, whose client address then counts; empty turns the PROXY protocol off',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    http: Type.Object(
      {
        trusted_proxies: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description:
            'addresses or CIDR ranges of reverse proxies whose X-Forwarded-For header the HTTP and HTTPS listeners believe: the client is the right-most address not listed (X-Forwarded-Proto and X-Forwarded-Host from them count too); empty ignores these headers',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    tls: Type.Object(
      {
        cert: Type.String({ default: '', description: 'PEM certificate chain; empty generates a self-signed one' }),
        key: Type.String({ default: '', description: 'PEM private key for cert' }),
        require_for_auth: Type.Boolean({ default: true, description: 'refuse SASL before TLS' }),
        allow_plaintext_on_loopback: Type.Boolean({
          default: true,
          description: 'let loopback clients authenticate without TLS even when require_for_auth is set',
        }),
        starttls_on_loopback: Type.Boolean({
          default: true,
          description:
            'offer STARTTLS to TCP clients on loopback; false treats loopback as trusted (a TLS-terminating proxy or a bot on the same host) and needs allow_plaintext_on_loopback',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    storage: Type.Object(
      {
        driver: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')], { default: 'sqlite', description: 'database driver' }),
        path: Type.String({ default: '', description: 'SQLite file; empty means DATA_DIR/parley.sqlite' }),
        url: Type.String({ default: '', description: 'PostgreSQL connection URL (postgres://user@host:port/database), for driver = "postgres"' }),
        password: Type.String({ default: '', description: 'PostgreSQL password; overrides one in url, so that it can come from PARLEY_STORAGE_PASSWORD' }),
        pool_size: Type.Integer({ minimum: 1, maximum: 1000, default: 10, description: 'maximum PostgreSQL connections per server process' }),
      },
      { default: {}, additionalProperties: false },
    ),
    auth: Type.Object(
      {
        scram_iterations: Type.Integer({ minimum: 4096, maximum: 1_000_000, default: 10_000, description: 'PBKDF2 iterations for new SCRAM credentials' }),
        max_failures: Type.Integer({ minimum: 1, maximum: 1000, default: 5, description: 'failed logins per IP or account before back-off starts' }),
        failure_window_s: Type.Integer({ minimum: 1, maximum: 86_400, default: 300, description: 'seconds over which failures are counted' }),
        max_backoff_s: Type.Integer({ minimum: 1, maximum: 86_400, default: 300, description: 'maximum back-off after repeated failures, in seconds' }),
        external_url: Type.String({
          default: '',
          pattern: '^(https?://.+)?$',
          description: 'http(s) URL that checks passwords with POST {username, domain, password}; empty disables external authentication',
        }),
        external_mode: Type.Union([Type.Literal('fallback'), Type.Literal('always')], {
          default: 'fallback',
          description:
            'fallback: ask the external endpoint only for accounts without local credentials and store SCRAM keys on success; always: every login uses PLAIN and the endpoint decides',
        }),
        external_timeout_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 3000, description: 'time limit of one external password check, in milliseconds' }),
        external_cache_s: Type.Integer({
          minimum: 0,
          maximum: 86_400,
          default: 300,
          description: 'seconds a successful external check is cached (as a salted hash), also while the endpoint is down; 0 disables the cache',
        }),
        sasl2: Type.Boolean({ default: true, description: 'offer SASL2 (XEP-0388) with Bind 2 (XEP-0386) and FAST (XEP-0484) beside SASL' }),
        legacy_sasl: Type.Boolean({ default: true, description: 'offer SASL of RFC 6120 with resource binding; false leaves SASL2 alone' }),
        fast_token_lifetime_s: Type.Integer({
          minimum: 0,
          maximum: 31_536_000,
          default: 1_209_600,
          description: 'seconds a FAST token (XEP-0484) is valid; 0 disables FAST',
        }),
        fast_rotate_before_s: Type.Integer({
          minimum: 0,
          maximum: 31_536_000,
          default: 259_200,
          description: 'a FAST login this many seconds or less before the token expires gets a new token',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    registration: Type.Object(
      {
        policy: Type.Union([Type.Literal('open'), Type.Literal('invite'), Type.Literal('closed')], {
          default: 'open',
          description: 'in-band registration (XEP-0077): open, invite (token required) or closed',
        }),
        min_password_length: Type.Integer({ minimum: 1, maximum: 1024, default: 6, description: 'shortest password accepted' }),
        max_per_ip_per_hour: Type.Integer({
          minimum: 1,
          maximum: 100_000,
          default: 10,
          description: 'accounts one IP address (IPv6: one /64) may register in-band per hour',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    sessions: Type.Object(
      {
        resource_conflict: Type.Union([Type.Literal('replace'), Type.Literal('reject'), Type.Literal('rename')], {
          default: 'replace',
          description: 'when a client binds a resource already in use: replace the old session, reject the new one, or rename the new one',
        }),
        max_per_account: Type.Integer({ minimum: 1, maximum: 1000, default: 20, description: 'sessions one account may hold' }),
        max_stanza_bytes: Type.Integer({ minimum: 10_000, maximum: 16_777_216, default: 262_144, description: 'largest stanza accepted, in bytes' }),
        stanzas_per_second: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 200, description: 'sustained stanza rate per session' }),
        stanza_burst: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000, description: 'stanzas a session may send in a burst' }),
        auth_timeout_s: Type.Integer({ minimum: 1, maximum: 3600, default: 60, description: 'seconds a connection may take to authenticate' }),
        idle_timeout_s: Type.Integer({ minimum: 10, maximum: 86_400, default: 300, description: 'seconds without traffic before a ping, then closing' }),
        resume_timeout_s: Type.Integer({
          minimum: 1,
          maximum: 86_400,
          default: 300,
          description: 'seconds a session with stream management resumption (XEP-0198) waits for its client after the connection drops',
        }),
        max_unacked: Type.Integer({
          minimum: 10,
          maximum: 1_000_000,
          default: 10_000,
          description: 'stanzas a client may leave unacknowledged under stream management before the server closes the session',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    offline: Type.Object(
      {
        max_messages: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 1000, description: 'offline messages kept per account' }),
      },
      { default: {}, additionalProperties: false },
    ),
    push: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'offer push notifications (XEP-0357) to app servers that clients enable' }),
        include_body: Type.Boolean({ default: false, description: 'send the last message body to app servers; otherwise notifications carry only the count and the sender' }),
        min_interval_ms: Type.Integer({
          minimum: 0,
          maximum: 3_600_000,
          default: 5000,
          description: 'shortest time between two notifications to one device, in milliseconds; messages in between are summed up in one notification at the end',
        }),
        max_registrations: Type.Integer({ minimum: 1, maximum: 1000, default: 20, description: 'app server and node pairs one account may enable' }),
        timeout_ms: Type.Integer({ minimum: 100, maximum: 300_000, default: 30_000, description: 'milliseconds to wait for an app server to reply to a notification before it counts as failed' }),
        max_failures: Type.Integer({
          minimum: 1,
          maximum: 1000,
          default: 20,
          description: 'timeouts and transient errors in a row after which a registration is removed; permanent errors such as item-not-found remove it at once',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    muc: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'serve multi-user chat rooms (XEP-0045)' }),
        domain: Type.String({ default: '', description: 'domain of the MUC service; empty means conference.DOMAIN' }),
        create: Type.Union([Type.Literal('local'), Type.Literal('admins')], {
          default: 'local',
          description: 'who may create rooms: any local account, or only the accounts listed in muc.admins',
        }),
        admins: Type.Array(Type.String({ minLength: 1 }), {
          default: [],
          description: 'bare JIDs of the service admins, who own every room and may always create rooms',
        }),
        max_rooms_per_user: Type.Integer({ minimum: 0, maximum: 1_000_000, default: 100, description: 'rooms one account may have created that still exist' }),
        max_occupants: Type.Integer({ minimum: 1, maximum: 100_000, default: 500, description: 'maximum occupants per room, whatever the room configuration sets' }),
        history_default: Type.Integer({ minimum: 0, maximum: 1000, default: 20, description: 'messages of discussion history sent on join when the client does not ask' }),
        history_max: Type.Integer({ minimum: 0, maximum: 10_000, default: 100, description: 'maximum messages of discussion history sent on one join, whatever the client requests or history_default sets. Older messages stay readable through MAM' }),
        messages_per_second: Type.Number({ minimum: 0.01, maximum: 100_000, default: 5, description: 'sustained groupchat message rate per occupant' }),
        message_burst: Type.Integer({ minimum: 1, maximum: 100_000, default: 20, description: 'groupchat messages an occupant may send in a burst' }),
      },
      { default: {}, additionalProperties: false },
    ),
    anonymous: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'serve SASL ANONYMOUS (RFC 4505) logins on the anonymous domain; nothing of such a session is kept after it ends' }),
        domain: Type.String({ default: '', description: 'domain of anonymous users; empty means anon.DOMAIN' }),
        logins_per_ip_per_hour: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 20, description: 'anonymous logins one IP address (IPv6: one /64) may make per hour' }),
        max_sessions: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000, description: 'anonymous sessions open at the same time' }),
        max_session_s: Type.Integer({ minimum: 0, maximum: 31_536_000, default: 86_400, description: 'seconds after which an anonymous session is closed; 0 means no limit' }),
      },
      { default: {}, additionalProperties: false },
    ),
    pep: Type.Object(
      {
        max_item_bytes: Type.Integer({ minimum: 1024, maximum: 16_777_216, default: 131_072, description: 'largest PEP item payload accepted, in bytes of serialized XML' }),
        max_items_per_node: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000, description: "items one PEP node keeps; also the value of max_items 'max'" }),
        max_nodes_per_account: Type.Integer({ minimum: 1, maximum: 100_000, default: 100, description: 'PEP nodes one account may have' }),
      },
      { default: {}, additionalProperties: false },
    ),
    directory: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'serve the organisation directory (XEP-0055 search) and list it in the server\'s disco#items' }),
        domain: Type.String({ default: '', description: 'domain of the directory service; empty means directory.DOMAIN' }),
        access: Type.Union([Type.Literal('local'), Type.Literal('anyone')], {
          default: 'local',
          description: 'who may search: authenticated accounts of this domain, or any entity that can reach the service',
        }),
        fields: Type.Array(Type.Union(['name', 'department', 'title', 'email'].map((field) => Type.Literal(field))), {
          default: ['name', 'department', 'title', 'email'],
          description: 'profile fields shown in search results besides the JID',
        }),
        max_results: Type.Integer({ minimum: 1, maximum: 1000, default: 50, description: 'largest page of search results; a client asking for more (RSM max) gets this many' }),
        organization: Type.String({ default: '', description: 'organisation name written to ORG/ORGNAME of the vCards that profiles fill' }),
      },
      { default: {}, additionalProperties: false },
    ),
    upload: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: "serve HTTP file upload (XEP-0363) and list it in the server's disco#items" }),
        domain: Type.String({ default: '', description: 'domain of the upload service; empty means upload.DOMAIN' }),
        public_url: Type.String({
          default: '',
          pattern: '^(https?://[^/?#]+(/[^?#]*[^/?#])?)?$',
          description: 'URL before /upload/ in slot URLs, without a trailing slash; empty means http://DOMAIN:HTTP_PORT (https://DOMAIN:HTTPS_PORT when only HTTPS listens)',
        }),
        path: Type.String({ default: '', description: 'folder of the uploaded files; empty means DATA_DIR/uploads' }),
        max_file_bytes: Type.Integer({ minimum: 1, maximum: 1_099_511_627_776, default: 104_857_600, description: 'largest file one slot accepts, in bytes' }),
        quota_bytes: Type.Integer({ minimum: 0, maximum: 1_125_899_906_842_624, default: 1_073_741_824, description: 'bytes of files one account may keep, pending slots included; 0 means no quota' }),
        expire_after_days: Type.Integer({ minimum: 0, maximum: 36_500, default: 0, description: 'days a file is kept after its upload; 0 keeps files until their account is deleted' }),
        slot_lifetime_s: Type.Integer({ minimum: 10, maximum: 86_400, default: 300, description: 'seconds within which the PUT of a slot must start' }),
        slots_per_minute: Type.Integer({ minimum: 0, maximum: 100_000, default: 30, description: 'slot requests one account may make per minute; 0 means no limit' }),
        allow_types: Type.Array(Type.String({ pattern: '^[a-z0-9!#$&^_.+-]+/([a-z0-9!#$&^_.+-]+|\\*)$' }), {
          default: [],
          description: 'media types a slot may announce, such as image/* or application/pdf; empty allows every type not in deny_types',
        }),
        deny_types: Type.Array(Type.String({ pattern: '^[a-z0-9!#$&^_.+-]+/([a-z0-9!#$&^_.+-]+|\\*)$' }), {
          default: [
            'text/html',
            'application/xhtml+xml',
            'image/svg+xml',
            'text/xml',
            'application/xml',
            'text/xsl',
            'application/xslt+xml',
            'text/javascript',
            'application/javascript',
            'application/ecmascript',
            'text/ecmascript',
            'application/x-javascript',
          ],
          description: 'media types a slot may not announce, because browsers run scripts in them; checked before allow_types',
        }),
      },
      { default: {}, additionalProperties: false },
    ),
    api: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'serve the admin REST API under /api/v1 on the HTTP and HTTPS listeners (bearer tokens from parleyctl token create)' }),
        max_body_bytes: Type.Integer({ minimum: 1024, maximum: 67_108_864, default: 1_048_576, description: 'largest request body of the admin API, in bytes; routes may set a different limit' }),
      },
      { default: {}, additionalProperties: false },
    ),
    webhooks: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'queue account events for the configured webhook endpoints and send them' }),
        timeout_ms: Type.Integer({ minimum: 100, maximum: 120_000, default: 10_000, description: 'milliseconds one delivery attempt may take, connection included' }),
        max_attempts: Type.Integer({ minimum: 1, maximum: 100, default: 10, description: 'attempts per delivery before it is marked failed' }),
        backoff_base_ms: Type.Integer({ minimum: 10, maximum: 86_400_000, default: 30_000, description: 'wait before the second attempt; each further wait doubles, with random jitter' }),
        backoff_max_ms: Type.Integer({ minimum: 10, maximum: 604_800_000, default: 3_600_000, description: 'longest wait between two attempts' }),
        concurrency: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'deliveries sent at the same time' }),
        allow_private_addresses: Type.Boolean({
          default: false,
          description: 'allow endpoints on loopback, private, link-local and other non-public addresses (for tests and internal receivers)',
        }),
        retention_days: Type.Integer({ minimum: 1, maximum: 3650, default: 30, description: 'days delivered and failed deliveries stay visible before they are deleted' }),
      },
      { default: {}, additionalProperties: false },
    ),
    web: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'serve the web client at / on the HTTP and HTTPS listeners' }),
        root: Type.String({ default: '', description: "folder of the built web client; empty uses packages/web/dist next to the server package" }),
      },
      { default: {}, additionalProperties: false },
    ),
    bosh: Type.Object(
      {
        enabled: Type.Boolean({ default: true, description: 'serve BOSH (XEP-0124, XEP-0206) at /http-bind on the HTTP and HTTPS listeners' }),
        max_wait_s: Type.Integer({ minimum: 1, maximum: 300, default: 60, description: 'longest time the server holds a BOSH request open without data; a client asking for more gets this' }),
        inactivity_s: Type.Integer({ minimum: 2, maximum: 3600, default: 60, description: 'seconds a BOSH session may go without a request before it ends' }),
        max_hold: Type.Integer({ minimum: 0, maximum: 10, default: 1, description: 'BOSH requests the server holds at once at most (the client asks with hold)' }),
        polling_s: Type.Integer({ minimum: 0, maximum: 60, default: 2, description: 'shortest interval between two empty requests of a polling BOSH session (hold 0)' }),
        max_body_bytes: Type.Integer({ minimum: 10_000, maximum: 67_108_864, default: 1_048_576, description: 'largest BOSH request body, in bytes; each stanza in it is also held to sessions.max_stanza_bytes' }),
      },
      { default: {}, additionalProperties: false },
    ),
    components: Type.Array(
      Type.Object(
        {
          domain: Type.String({ minLength: 1, description: 'domain routed to the component, such as bridge.example.org' }),
          secret: Type.String({ minLength: 1, description: 'shared secret of the XEP-0114 handshake' }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'external components (XEP-0114) that may connect to the component port' },
    ),
    external_services: Type.Array(
      Type.Object(
        {
          type: Type.String({ pattern: '^[a-z][a-z0-9+.-]*$', description: 'service type of the XEP-0215 registry, such as stun or turn' }),
          host: Type.String({ minLength: 1, description: 'host name or IP address of the service' }),
          port: Type.Integer({ minimum: 1, maximum: 65_535, description: 'port of the service' }),
          transport: Type.Union([Type.Literal('udp'), Type.Literal('tcp'), Type.Literal('')], { default: '', description: 'udp, tcp, or empty to leave it out' }),
          name: Type.String({ default: '', description: 'name shown to users; empty leaves it out' }),
          secret: Type.String({ default: '', description: 'shared secret of the TURN REST scheme; clients get temporary credentials made with it' }),
          credential_ttl_s: Type.Integer({ minimum: 60, maximum: 604_800, default: 86_400, description: 'seconds temporary credentials stay valid' }),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'external services (STUN, TURN) that XEP-0215 discovery lists to local accounts' },
    ),
    cluster: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'share sessions and routing with other nodes through Redis' }),
        node_id: Type.String({ default: '', description: 'this node\'s name in the cluster, unique per node; empty means host name and c2s port' }),
        redis_url: Type.String({ default: 'redis://127.0.0.1:6379', description: 'Redis connection URL (redis://host:port/db) that every node of the cluster uses' }),
        heartbeat_ms: Type.Integer({ minimum: 100, maximum: 60_000, default: 2000, description: 'milliseconds between a node\'s heartbeats' }),
        expiry_ms: Type.Integer({ minimum: 300, maximum: 600_000, default: 10_000, description: 'milliseconds without a heartbeat after which a node and its sessions count as gone' }),
      },
      { default: {}, additionalProperties: false },
    ),
    s2s: Type.Object(
      {
        enabled: Type.Boolean({ default: false, description: 'federate with other XMPP servers: accept server-to-server streams on listen.s2s_port and connect to other domains' }),
        dialback_secret: Type.String({ default: '', description: 'secret for Server Dialback keys (XEP-0220); empty generates one and keeps it in DATA_DIR/dialback.secret' }),
        require_tls: Type.Boolean({ default: true, description: 'require STARTTLS or direct TLS on server-to-server streams in both directions' }),
        allow_plaintext_on_loopback: Type.Boolean({ default: false, description: 'allow server-to-server streams without TLS to and from loopback addresses even when require_tls is set (for tests)' }),
        ca_file: Type.String({ default: '', description: 'PEM file of extra certificate authorities trusted for SASL EXTERNAL, beside the bundled public ones' }),
        allow_domains: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'remote domains this server federates with; empty allows every domain not in deny_domains' }),
        deny_domains: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'remote domains this server never federates with; checked before allow_domains' }),
        hosts: Type.Record(Type.String({ minLength: 1 }), Type.String({ pattern: '^(tls://)?([^:\\[\\]]+|\\[[0-9a-fA-F:.]+\\]):[0-9]{1,5}$' }), {
          default: {},
          description: 'remote domain to "host:port" (STARTTLS) or "tls://host:port" (direct TLS); an entry replaces the DNS lookup for that domain',
        }),
        connect_timeout_s: Type.Integer({ minimum: 1, maximum: 600, default: 30, description: 'seconds an outgoing connection may take to resolve, connect and authenticate before its queued stanzas bounce with remote-server-timeout' }),
        idle_timeout_s: Type.Integer({ minimum: 1, maximum: 86_400, default: 600, description: 'seconds without stanzas after which a server-to-server stream is closed; the next stanza opens a new one' }),
        max_queued: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000, description: 'stanzas queued per remote domain while its connection is opening; more bounce with resource-constraint' }),
        max_incoming: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000, description: 'incoming server-to-server connections open at the same time' }),
      },
      { default: {}, additionalProperties: false },
    ),
    server_info: Type.Object(
      {
        name: Type.String({ default: 'Parley', description: 'software name reported by XEP-0092' }),
        show_os: Type.Boolean({ default: false, description: 'report the operating system in XEP-0092' }),
      },
      { default: {}, additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: Type.Union(
          ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((level) => Type.Literal(level)),
          { default: 'info', description: 'log level' },
        ),
      },
      { default: {}, additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

export type Config = Static<typeof ConfigSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Loads the configuration: defaults, then the TOML file (if given), then environment
 * variables named PARLEY_<KEY> or PARLEY_<SECTION>_<KEY> in upper case
 * (PARLEY_DOMAIN, PARLEY_LISTEN_C2S_PORT). Throws ConfigError naming the first invalid key.
 */
export function loadConfig(options: { file?: string; env?: NodeJS.ProcessEnv; overrides?: Record<string, unknown> } = {}): Config {
  let raw: Record<string, unknown> = {};
  if (options.file) raw = readTomlFile(options.file);
  const fromEnv = applyEnv(raw, options.env ?? process.env);
  if (options.overrides) mergeInto(raw, options.overrides);
  return validateConfig(raw, options.file, fromEnv);
}

function readTomlFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  try {
    return parseToml(text) as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError(`invalid TOML in ${file}: ${(err as Error).message}`);
  }
}

/**
 * Validates a raw configuration object, fills defaults and resolves paths. `fromEnv` maps
 * dotted keys to the environment variables that set them, so errors name the variable.
 */
export function validateConfig(raw: Record<string, unknown>, file?: string, fromEnv: Map<string, string> = new Map()): Config {
  const value = Value.Default(ConfigSchema, structuredClone(raw)) as Record<string, unknown>;
  const first = Value.Errors(ConfigSchema, value).First();
  if (first) {
    const key = first.path.replace(/^\//, '').replace(/\//g, '.');
    const variable = fromEnv.get(key);
    const source = variable ? `environment variable ${variable}` : (file ?? 'the configuration');
    throw new ConfigError(describeError(first, source));
  }
  const source = file ?? 'the configuration';

  const config = value as Config;
  config.domain = config.domain.toLowerCase();
  if (!config.storage.path) config.storage.path = path.join(config.data_dir, 'parley.sqlite');
  if (config.storage.driver === 'postgres' && !config.storage.url) {
    throw new ConfigError(`invalid configuration in ${source}: storage.url must name the PostgreSQL database when storage.driver is "postgres"`);
  }
  if (Boolean(config.tls.cert) !== Boolean(config.tls.key)) {
    throw new ConfigError(`invalid configuration in ${source}: tls.cert and tls.key must be set together`);
  }
  if (!config.tls.starttls_on_loopback && config.tls.require_for_auth && !config.tls.allow_plaintext_on_loopback) {
    throw new ConfigError(
      `invalid configuration in ${source}: tls.starttls_on_loopback = false requires tls.allow_plaintext_on_loopback = true or tls.require_for_auth = false, because loopback clients could not log in otherwise`,
    );
  }
  if (config.cluster.expiry_ms < 2 * config.cluster.heartbeat_ms) {
    throw new ConfigError(`invalid configuration in ${source}: cluster.expiry_ms must be at least twice cluster.heartbeat_ms, so that one late heartbeat does not end a node`);
  }
  checkComponents(config, source);
  checkAddressRanges({ 'listen.proxy_protocol_from': config.listen.proxy_protocol_from, 'http.trusted_proxies': config.http.trusted_proxies }, source);
  return config;
}

function checkAddressRanges(lists: Record<string, string[]>, source: string): void {
  for (const [key, entries] of Object.entries(lists)) {
    for (const [index, entry] of entries.entries()) {
      const error = addressRangeError(entry);
      if (error) throw new ConfigError(`invalid configuration in ${source}: ${key}.${index} = ${JSON.stringify(entry)} is ${error}`);
    }
  }
}

/** The domain of anonymous users: `[anonymous] domain`, or anon.DOMAIN when it is empty. */
export function anonymousDomainOf(config: Pick<Config, 'domain' | 'anonymous'>): string {
  return (config.anonymous.domain || `anon.${config.domain}`).toLowerCase();
}

/** Lower-cases component domains and rejects one served twice or also served by the server itself. */
function checkComponents(config: Config, source: string): void {
  const taken = new Set([config.domain, config.muc.enabled ? config.muc.domain || `conference.${config.domain}` : '']);
  const anonymous = config.anonymous.enabled ? anonymousDomainOf(config) : '';
  if (anonymous !== '' && taken.has(anonymous)) throw new ConfigError(`invalid configuration in ${source}: anonymous.domain ${anonymous} is already served`);
  taken.add(anonymous);
  if (config.upload.enabled) taken.add(config.upload.domain.toLowerCase() || `upload.${config.domain}`);
  for (const [index, component] of config.components.entries()) {
    component.domain = component.domain.toLowerCase();
    if (taken.has(component.domain)) {
      throw new ConfigError(`invalid configuration in ${source}: components.${index}.domain ${component.domain} is already served`);
    }
    taken.add(component.domain);
  }
}

function describeError(error: { path: string; message: string; value: unknown; schema: TSchema }, source: string): string {
  const key = error.path.replace(/^\//, '').replace(/\//g, '.') || '(top level)';
  const allowed = describeAllowed(error.schema);
  if (error.message.startsWith('Unexpected property')) {
    return `invalid configuration in ${source}: unknown key ${key}`;
  }
  return `invalid configuration in ${source}: ${key} = ${JSON.stringify(error.value)} is not allowed: ${allowed || error.message}`;
}

function describeAllowed(schema: TSchema): string {
  if (Array.isArray(schema.anyOf) && schema.anyOf.some((option: TSchema) => option.type === 'integer')) {
    return `false or an integer from 0 to 65535 (${schema.description})`;
  }
  if (Array.isArray(schema.anyOf)) {
    return 'one of ' + schema.anyOf.map((option: TSchema) => JSON.stringify(option.const)).join(', ');
  }
  const parts: string[] = [];
  if (schema.type) parts.push(`${/^[aeiou]/.test(String(schema.type)) ? 'an' : 'a'} ${schema.type}`);
  if (schema.minimum !== undefined && schema.maximum !== undefined) parts.push(`from ${schema.minimum} to ${schema.maximum}`);
  if (schema.minLength) parts.push('not empty');
  if (schema.description) parts.push(`(${schema.description})`);
  return parts.join(' ');
}

/**
 * Copies PARLEY_* variables into `raw` and returns which variable set each dotted key. A
 * variable named after a section with a key the section does not have is an error, so that
 * a misspelt setting does not pass unnoticed.
 */
function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): Map<string, string> {
  const applied = new Map<string, string>();
  for (const [key, schema] of Object.entries(ConfigSchema.properties)) {
    if (schema.type === 'object') {
      for (const [subKey, subSchema] of Object.entries((schema as TObject).properties)) {
        const variable = `PARLEY_${key}_${subKey}`.toUpperCase();
        const text = env[variable];
        if (text === undefined) continue;
        const section = (raw[key] ??= {}) as Record<string, unknown>;
        section[subKey] = parseEnvValue(text, subSchema);
        applied.set(`${key}.${subKey}`, variable);
      }
    } else {
      const variable = `PARLEY_${key}`.toUpperCase();
      const text = env[variable];
      if (text === undefined) continue;
      raw[key] = parseEnvValue(text, schema);
      applied.set(key, variable);
    }
  }
  rejectUnknownVariables(env, new Set(applied.values()));
  return applied;
}

function rejectUnknownVariables(env: NodeJS.ProcessEnv, used: Set<string>): void {
  const sections = Object.entries(ConfigSchema.properties)
    .filter(([, schema]) => schema.type === 'object')
    .map(([key]) => key);
  for (const variable of Object.keys(env)) {
    if (!variable.startsWith('PARLEY_') || used.has(variable)) continue;
    const section = sections.find((name) => variable.startsWith(`PARLEY_${name.toUpperCase()}_`));
    if (section !== undefined) {
      throw new ConfigError(`unknown environment variable ${variable}: the [${section}] section has no key ${variable.slice(`PARLEY_${section}_`.length).toLowerCase()}`);
    }
  }
}

function parseEnvValue(text: string, schema: TSchema): unknown {
  if (Array.isArray(schema.anyOf) && text === 'false') return false;
  if (Array.isArray(schema.anyOf) && /^\d+$/.test(text)) return Number(text);
  if (schema.type === 'integer' || schema.type === 'number') return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
  if (schema.type === 'array') return text === '' ? [] : text.split(',').map((item) => item.trim());
  if (schema.type === 'boolean') {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
  }
  return text;
}

function mergeInto(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(source)) {
    const existing = target[key];
    if (isPlainObject(value) && isPlainObject(existing)) mergeInto(existing, value);
    else target[key] = isPlainObject(value) ? structuredClone(value) : value;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
