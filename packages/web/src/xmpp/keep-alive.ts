/**
 * Detects a dead connection that never reports its end (a sleeping laptop, a lost route).
 * After `idleMs` without traffic from the server it probes once. When `timeoutMs` more pass
 * in silence it gives up, so that the client reconnects or resumes.
 */
export class KeepAlive {
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: { idleMs: number; timeoutMs: number },
    private readonly probe: () => void,
    private readonly giveUp: () => void,
  ) {}

  start(): void {
    this.arm(this.options.idleMs, () => {
      this.probe();
      this.arm(this.options.timeoutMs, this.giveUp);
    });
  }

  /** Something arrived: the connection lives. */
  heard(): void {
    if (this.timer !== undefined) this.start();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(delay: number, then: () => void): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(then, delay);
  }
}
