import type { Logger } from 'pino';

/** A handler returns true to stop the event from reaching handlers of lower priority. */
export type HookHandler<T> = (event: T) => boolean | void | Promise<boolean | void>;

interface Registration<T> {
  handler: HookHandler<T>;
  priority: number;
  owner: string;
}

/**
 * A typed event bus. Handlers run one after another in descending priority and may
 * be async; `fire` resolves to true when a handler claimed the event.
 */
export class Hooks<Events extends object> {
  private readonly handlers = new Map<keyof Events, Registration<never>[]>();

  constructor(private readonly log: Logger) {}

  on<K extends keyof Events>(name: K, handler: HookHandler<Events[K]>, options: { priority?: number; owner?: string } = {}): () => void {
    const list = (this.handlers.get(name) ?? []) as Registration<Events[K]>[];
    const registration = { handler, priority: options.priority ?? 0, owner: options.owner ?? 'core' };
    list.push(registration);
    list.sort((a, b) => b.priority - a.priority);
    this.handlers.set(name, list as Registration<never>[]);
    return () => {
      const index = list.indexOf(registration);
      if (index >= 0) list.splice(index, 1);
    };
  }

  has<K extends keyof Events>(name: K): boolean {
    return (this.handlers.get(name)?.length ?? 0) > 0;
  }

  /** Runs the handlers of `name`. A handler that throws is logged and the error re-thrown. */
  async fire<K extends keyof Events>(name: K, event: Events[K]): Promise<boolean> {
    const list = this.handlers.get(name) as Registration<Events[K]>[] | undefined;
    if (!list) return false;
    for (const { handler, owner } of [...list]) {
      let result: boolean | void;
      try {
        result = await handler(event);
      } catch (err) {
        this.log.debug({ err, hook: String(name), module: owner }, 'hook handler failed');
        throw err;
      }
      if (result === true) return true;
    }
    return false;
  }
}
