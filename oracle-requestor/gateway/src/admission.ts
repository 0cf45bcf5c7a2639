/**
 * What keeps a flood from taking the gateway down: a per-IP token bucket (a steady rate
 * per minute with a burst of a tenth of it), and a gate that lets a bounded number of
 * uploads and payments run at once, queues a bounded number more, and refuses the rest
 * at once (503 with Retry-After) instead of holding their bodies in memory.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly burst: number;
  private readonly perMs: number;

  private readonly maxClients: number;

  constructor(perMinute: number, maxClients = 100_000) {
    this.maxClients = maxClients;
    this.burst = Math.max(1, Math.ceil(perMinute / 10));
    this.perMs = perMinute / 60_000;
  }

  /** Takes one token for `client`; returns the seconds to wait when there is none. */
  take(client: string, now = Date.now()): number | undefined {
    let bucket = this.buckets.get(client);
    if (!bucket) {
      // Forget idle clients first: a full bucket is the same as no bucket.
      if (this.buckets.size >= this.maxClients) this.prune(now);
      bucket = { tokens: this.burst, at: now };
      this.buckets.set(client, bucket);
    }
    bucket.tokens = Math.min(this.burst, bucket.tokens + (now - bucket.at) * this.perMs);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    return Math.ceil((1 - bucket.tokens) / this.perMs / 1000);
  }

  private prune(now: number): void {
    for (const [client, bucket] of this.buckets)
      if (bucket.tokens + (now - bucket.at) * this.perMs >= this.burst) this.buckets.delete(client);
    if (this.buckets.size >= this.maxClients) this.buckets.clear();
  }
}

export class Busy extends Error {}

export class ConcurrencyGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  private readonly limit: number;
  private readonly maxQueued: number;

  constructor(limit: number, maxQueued: number) {
    this.limit = limit;
    this.maxQueued = maxQueued;
  }

  /** Runs `work` when a slot is free; throws Busy at once when the queue is full. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) {
      if (this.waiting.length >= this.maxQueued) throw new Busy("the gateway is busy: try again shortly");
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get load() {
    return { running: this.running, queued: this.waiting.length };
  }
}
