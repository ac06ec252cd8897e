/** The configuration as `parleyctl check-config` prints it: secrets replaced, the rest as loaded. */

export const REDACTED = '<redacted>';

/** Keys whose values are secrets wherever they appear, such as `[[components]] secret`. */
const SECRET_KEY = /(^|_)(secret|password|passphrase|token|api_key)$/i;

/**
 * Returns a copy of `value` with secrets replaced by "<redacted>": values of keys named like
 * a secret, inline PEM private keys, and the user information and credential-like query
 * parameters of URLs (so `https://user:pass@host/` prints as `https://<redacted>@host/`).
 */
export function redactConfig(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((item) => redactConfig(item));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, redactConfig(item, name)]));
  }
  if (typeof value !== 'string' || value === '') return value;
  if (SECRET_KEY.test(key) || value.includes('PRIVATE KEY-----')) return REDACTED;
  return redactUrl(value);
}

function redactUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not parseable as a URL: hide everything between the scheme and an @.
    return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, `$1${REDACTED}@`);
  }

  const hadUserinfo = url.username !== '' || url.password !== '';
  url.username = '';
  url.password = '';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_KEY.test(name) || /^(key|sig|signature|auth|access_token)$/i.test(name)) url.searchParams.set(name, REDACTED);
  }
  const printed = url.toString().replaceAll(encodeURIComponent(REDACTED), REDACTED);
  return hadUserinfo ? printed.replace('://', `://${REDACTED}@`) : printed;
}
