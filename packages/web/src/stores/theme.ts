import type { Theme } from './settings.js';

/** Returns the colour scheme to show: the chosen one, or the system's for 'system'. */
export function resolveTheme(theme: Theme, prefersDark: boolean): 'light' | 'dark' {
  if (theme !== 'system') return theme;
  return prefersDark ? 'dark' : 'light';
}

/** Applies `theme` to the document and follows system changes while it is 'system'; returns the stop function. */
export function applyTheme(theme: Theme): () => void {
  const query = window.matchMedia('(prefers-color-scheme: dark)');
  const apply = (): void => {
    document.documentElement.dataset.theme = resolveTheme(theme, query.matches);
  };
  apply();
  query.addEventListener('change', apply);
  return () => query.removeEventListener('change', apply);
}
