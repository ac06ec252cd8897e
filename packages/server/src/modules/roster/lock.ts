/**
 * Serialises the read-modify-write steps on one account's roster. Presence handling of
 * different users runs concurrently (each session handles its own stanzas), so two
 * updates of the same record could otherwise overwrite each other. Callers must not
 * route stanzas while they hold a lock: routing can take the lock of another account,
 * and two accounts waiting for each other would never finish.
 */
export class AccountLocks {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` once every earlier task for `account` has finished, and returns its result. */
  async run<T>(account: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(account) ?? Promise.resolve();
    let release!: () => void;
    const done = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => done);
    this.tails.set(account, tail);

    await previous;
    try {
      return await task();
    } finally {
      release();
      if (this.tails.get(account) === tail) this.tails.delete(account);
    }
  }
}
