/**
 * The timed steps of bench/web.ts, run inside the web client's page (bundled into it by
 * bench/web-entry.ts).
 */

/** Times sign-in, from the click on the button to the conversation list rendered and the main thread free for a click. */
export async function timeSignIn(timeoutMs: number): Promise<{ listedMs: number; interactiveMs: number }> {
  const appeared = (selector: string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (document.querySelector(selector)) return resolve();
      const timer = setTimeout(() => reject(new Error(`${selector} did not appear`)), timeoutMs);
      const observer = new MutationObserver(() => {
        if (!document.querySelector(selector)) return;
        observer.disconnect();
        clearTimeout(timer);
        resolve();
      });
      observer.observe(document.body, { childList: true, subtree: true });
    });

  const start = performance.now();
  document.querySelector<HTMLButtonElement>('[data-testid="signin-submit"]')!.click();
  await appeared('[data-testid="conversation-item"]');
  const listedMs = performance.now() - start;
  // A task posted now runs only after whatever work is queued ahead of it, as a click would.
  await new Promise((resolve) => setTimeout(resolve, 0));
  return { listedMs, interactiveMs: performance.now() - start };
}

/** Times opening a conversation, from a click on the row of `jid` to its newest message rendered and painted. */
export async function timeOpen(args: { jid: string; newestBody: string; timeoutMs: number }): Promise<number> {
  const newestShown = (): boolean => {
    const view = document.querySelector(`[data-testid="chat-view"][data-jid="${args.jid}"]`);
    return [...(view?.querySelectorAll('[data-testid="message-body"]') ?? [])].some((body) => body.textContent === args.newestBody);
  };
  const start = performance.now();
  document.querySelector<HTMLButtonElement>(`[data-testid="conversation-item"][data-jid="${args.jid}"] [data-testid="conversation-open"]`)!.click();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.jid} did not open`)), args.timeoutMs);
    const observer = new MutationObserver(() => {
      if (!newestShown()) return;
      observer.disconnect();
      clearTimeout(timer);
      resolve();
    });
    observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  await new Promise((resolve) => requestAnimationFrame(resolve));
  return performance.now() - start;
}

/** Times a search, from submitting the search screen's form to its first hits rendered. */
export async function timeSearch(args: { text: string; timeoutMs: number }): Promise<{ ms: number; hits: number }> {
  const input = document.querySelector<HTMLInputElement>('[data-testid="search-input"]')!;
  const answered = (): boolean => document.querySelector('[data-testid="search-hit"]')?.textContent?.includes(args.text) ?? false;
  input.value = args.text;
  input.dispatchEvent(new Event('input'));
  const start = performance.now();
  input.form!.requestSubmit();
  await new Promise<void>((resolve, reject) => {
    if (answered()) return resolve();
    const timer = setTimeout(() => reject(new Error(`no hits for ${args.text}`)), args.timeoutMs);
    const observer = new MutationObserver(() => {
      if (!answered()) return;
      observer.disconnect();
      clearTimeout(timer);
      resolve();
    });
    observer.observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  const ms = performance.now() - start;
  return { ms, hits: document.querySelectorAll('[data-testid="search-hit"]').length };
}
