/**
 * golem-js 3.6.0 reads agreement, debit-note and invoice events in three loops that
 * poll yagna again at once after an error, so while yagna is down or answering errors
 * they spin as fast as the connection fails, burning a core. This puts a watchdog in
 * front of those three calls: after a failure every poll waits (1 s, doubling to 30 s)
 * before it is sent, yagna's state is logged once when it goes and once when it comes
 * back, and a successful poll resets the wait. The loops themselves are golem-js's.
 */
import type { GolemNetwork } from "@golem-sdk/golem-js";
import type { ExecutorLogger } from "./reporting.ts";

export const POLL_BACKOFF_FIRST_MS = 1_000;
export const POLL_BACKOFF_MAX_MS = 30_000;

/** What golem-js's readers call and cancel: a promise with `cancel()`, rejecting with a `CancelError` when cancelled. */
interface Cancelable<T> extends Promise<T> {
  cancel(): void;
}

export interface YagnaHealth {
  /** Consecutive failed polls (0: yagna answers). */
  readonly failures: number;
}

/** Wraps the event polls of `glm` (before `connect`); returns the watchdog's view. */
export function watchEventPolls(glm: GolemNetwork, logger: ExecutorLogger): YagnaHealth {
  let failures = 0;
  const delayMs = () => (failures === 0 ? 0 : Math.min(POLL_BACKOFF_FIRST_MS * 2 ** (failures - 1), POLL_BACKOFF_MAX_MS));
  const succeeded = () => {
    if (failures > 0) logger.info({ failedPolls: failures }, "yagna answers event polls again");
    failures = 0;
  };
  const failed = (error: unknown) => {
    failures++;
    if (failures === 1) logger.warn({ err: error }, "yagna does not answer event polls; polling again with a back-off");
  };

  const guard =
    <A extends unknown[], T>(call: (...args: A) => Cancelable<T>) =>
    (...args: A): Cancelable<T> => {
      let inner: Cancelable<T> | undefined;
      let timer: NodeJS.Timeout | undefined;
      let rejectOuter: (reason: unknown) => void = () => {};
      const outer = new Promise<T>((resolve, reject) => {
        rejectOuter = reject;
        const send = () => {
          inner = call(...args);
          inner.then(
            (value) => {
              succeeded();
              resolve(value);
            },
            (error: unknown) => {
              if ((error as { name?: unknown } | undefined)?.name !== "CancelError") failed(error);
              reject(error);
            },
          );
        };
        const wait = delayMs();
        if (wait === 0) send();
        else timer = setTimeout(send, wait);
      }) as Cancelable<T>;
      outer.cancel = () => {
        clearTimeout(timer);
        if (inner) inner.cancel();
        else rejectOuter(Object.assign(new Error("the event poll was cancelled"), { name: "CancelError" }));
      };
      return outer;
    };

  const { market, payment } = glm.services.yagna;
  // The tests' fake yagna may lack a call: only what exists is guarded.
  if (typeof market?.collectAgreementEvents === "function")
    market.collectAgreementEvents = guard(market.collectAgreementEvents.bind(market) as never) as never;
  if (typeof payment?.getDebitNoteEvents === "function")
    payment.getDebitNoteEvents = guard(payment.getDebitNoteEvents.bind(payment) as never) as never;
  if (typeof payment?.getInvoiceEvents === "function")
    payment.getInvoiceEvents = guard(payment.getInvoiceEvents.bind(payment) as never) as never;
  return {
    get failures() {
      return failures;
    },
  };
}

/** Proposals older than this are no longer looked up: a counter-offer answers ours within seconds. */
export const PROPOSAL_KEEP_MS = 30 * 60_000;

/**
 * golem-js 3.6.0 keeps every proposal it has seen in a cache that only `disconnect`
 * clears, so an oracle running for weeks grows by every offer the market shows it.
 * Drops the cached proposals older than `PROPOSAL_KEEP_MS`; returns how many.
 */
export function pruneProposalCache(glm: GolemNetwork, now: number = Date.now()): number {
  const cache = glm.services.proposalCache;
  let dropped = 0;
  for (const proposal of cache.getAll()) {
    if (now - proposal.timestamp.getTime() > PROPOSAL_KEEP_MS) {
      cache.delete(proposal.id);
      dropped++;
    }
  }
  return dropped;
}
