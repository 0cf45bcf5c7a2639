/**
 * What the executor has open on yagna that a crash would leave behind: allocations
 * (their budget stays reserved until they expire) and agreements whose invoice is not
 * settled (golem-js only sees the invoices of its own app session, so after a restart
 * nobody would accept them). Written before each is relied on, cleared once it is
 * closed; a new executor reads it and closes what a previous process left (recovery.ts).
 * The oracle keeps it in its durable queue (store/golem-journal.ts).
 */
export interface OpenAgreement {
  agreementId: string;
  /** The allocation its invoice is paid from. */
  allocationId: string;
}

export interface GolemJournal {
  /** Everything recorded as open. */
  open(): { allocationIds: string[]; agreements: OpenAgreement[] };
  allocationCreated(allocationId: string): void;
  allocationReleased(allocationId: string): void;
  /** Recorded as soon as yagna creates it (before approval), and again with its pool's allocation once signed. */
  agreementSigned(agreement: OpenAgreement): void;
  /** Its invoice was accepted or rejected, or it was never approved: nothing more is owed or claimed. */
  agreementSettled(agreementId: string): void;
}

/** A journal that lives as long as the process (no recovery across restarts). */
export function memoryJournal(): GolemJournal {
  const allocations = new Set<string>();
  const agreements = new Map<string, OpenAgreement>();
  return {
    open: () => ({ allocationIds: [...allocations], agreements: [...agreements.values()] }),
    allocationCreated: (allocationId) => void allocations.add(allocationId),
    allocationReleased: (allocationId) => void allocations.delete(allocationId),
    agreementSigned: (agreement) => void agreements.set(agreement.agreementId, agreement),
    agreementSettled: (agreementId) => void agreements.delete(agreementId),
  };
}
