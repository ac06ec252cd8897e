import { reactive } from 'vue';

/** The screens; a hash route is `#/<name>` or `#/<name>/<param>` (param is URI-encoded). */
export type RouteName = 'signin' | 'signup' | 'chats' | 'contacts' | 'search' | 'profile' | 'settings';

export interface Route {
  name: RouteName;
  param: string;
}

const NAMES: readonly RouteName[] = ['signin', 'signup', 'chats', 'contacts', 'search', 'profile', 'settings'];

export function parseHash(hash: string): Route {
  const [name = '', ...rest] = hash.replace(/^#\/?/, '').split('/');
  const known = (NAMES as readonly string[]).includes(name) ? (name as RouteName) : 'chats';
  let param = '';
  try {
    param = decodeURIComponent(rest.join('/'));
  } catch {
    param = '';
  }
  return { name: known, param };
}

export function formatHash(name: RouteName, param = ''): string {
  return param ? `#/${name}/${encodeURIComponent(param)}` : `#/${name}`;
}

/** The current route, following the location hash (so Back and Forward work). */
export const route = reactive<Route>(typeof location === 'undefined' ? { name: 'chats', param: '' } : parseHash(location.hash));

if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => Object.assign(route, parseHash(location.hash)));
}

export function navigate(name: RouteName, param = ''): void {
  const hash = formatHash(name, param);
  if (location.hash !== hash) location.hash = hash;
  Object.assign(route, { name, param });
}
