/** Sign-up through the server's public HTTP endpoint `GET/POST /api/v1/registration`. */

export interface RegistrationInfo {
  policy: 'open' | 'invite' | 'closed';
  minPasswordLength: number;
  tokenRequired: boolean;
}

export class RegistrationFailed extends Error {
  override name = 'RegistrationFailed';
  constructor(
    message: string,
    readonly status: number,
    /** The problem's `field` (a JSON pointer such as `/username`) and `title`, when the server sent them. */
    readonly field?: string,
    readonly title?: string,
  ) {
    super(message);
  }
}

export type SignUpErrorKey =
  | 'signUp.errorUsername'
  | 'signUp.errorPassword'
  | 'signUp.errorInvalid'
  | 'signUp.errorClosed'
  | 'signUp.errorInvite'
  | 'signUp.errorHttps'
  | 'signUp.errorTaken'
  | 'signUp.errorThrottled';

/** Maps a refusal of the registration endpoint to a catalogue key; undefined for anything else. */
export function signUpErrorKey(err: RegistrationFailed): SignUpErrorKey | undefined {
  switch (err.status) {
    case 400:
      if (err.field === '/username') return 'signUp.errorUsername';
      if (err.field === '/password') return 'signUp.errorPassword';
      if (err.field === '/token') return 'signUp.errorInvite';
      return 'signUp.errorInvalid';
    case 403:
      if (err.field === '/token' || /invitation/i.test(err.title ?? '')) return 'signUp.errorInvite';
      if (/https/i.test(err.title ?? '')) return 'signUp.errorHttps';
      return 'signUp.errorClosed';
    case 409:
      return 'signUp.errorTaken';
    case 429:
      return 'signUp.errorThrottled';
    default:
      return undefined;
  }
}

/** Reads the server's registration policy, or undefined when the endpoint is missing (older server). */
export async function fetchRegistrationInfo(origin: string, fetchImpl: typeof fetch = fetch): Promise<RegistrationInfo | undefined> {
  const response = await fetchImpl(new URL('/api/v1/registration', origin), { headers: { accept: 'application/json' } }).catch(() => undefined);
  if (!response?.ok) return undefined;
  const body = (await response.json()) as { policy?: string; min_password_length?: number; token_required?: boolean };
  if (body.policy !== 'open' && body.policy !== 'invite' && body.policy !== 'closed') return undefined;
  return { policy: body.policy, minPasswordLength: body.min_password_length ?? 1, tokenRequired: body.token_required === true };
}

/** Registers `username`; returns the new account's JID or throws RegistrationFailed with the server's problem detail. */
export async function register(origin: string, username: string, password: string, token?: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  const response = await fetchImpl(new URL('/api/v1/registration', origin), {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, application/problem+json' },
    body: JSON.stringify(token ? { username, password, token } : { username, password }),
  });
  const body = (await response.json().catch(() => ({}))) as { jid?: string; detail?: string; title?: string; field?: string };
  if (response.status !== 201 || !body.jid) {
    throw new RegistrationFailed(body.detail ?? body.title ?? `HTTP ${response.status}`, response.status, body.field, body.title);
  }
  return body.jid;
}
