/**
 * The Golem executor's journal (executors/golem/journal.ts) in the oracle's durable
 * queue: allocations and agreements a crash would leave open on yagna, so that the next
 * start releases and pays them (executors/golem/recovery.ts).
 */
import type { DatabaseSync } from "node:sqlite";
import type { GolemJournal, OpenAgreement } from "../executors/golem/journal.ts";

export class SqliteGolemJournal implements GolemJournal {
  private readonly db: DatabaseSync;
  private readonly clock: () => number;

  constructor(db: DatabaseSync, clock: () => number = Date.now) {
    this.db = db;
    this.clock = clock;
  }

  open(): { allocationIds: string[]; agreements: OpenAgreement[] } {
    const rows = this.db.prepare("SELECT kind, id, allocation_id FROM golem_open ORDER BY opened_at, id").all();
    return {
      allocationIds: rows.filter((row) => row.kind === "allocation").map((row) => String(row.id)),
      agreements: rows
        .filter((row) => row.kind === "agreement")
        .map((row) => ({ agreementId: String(row.id), allocationId: String(row.allocation_id) })),
    };
  }

  allocationCreated(allocationId: string): void {
    this.#insert("allocation", allocationId, null);
  }

  allocationReleased(allocationId: string): void {
    this.db.prepare("DELETE FROM golem_open WHERE kind = 'allocation' AND id = ?").run(allocationId);
  }

  agreementSigned({ agreementId, allocationId }: OpenAgreement): void {
    // Recorded when yagna creates it, again once approved: the pool's allocation is the one that pays.
    this.db
      .prepare(
        "INSERT INTO golem_open (kind, id, allocation_id, opened_at) VALUES ('agreement', ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET allocation_id = excluded.allocation_id",
      )
      .run(agreementId, allocationId, this.clock());
  }

  agreementSettled(agreementId: string): void {
    this.db.prepare("DELETE FROM golem_open WHERE kind = 'agreement' AND id = ?").run(agreementId);
  }

  #insert(kind: "allocation" | "agreement", id: string, allocationId: string | null): void {
    this.db
      .prepare("INSERT OR IGNORE INTO golem_open (kind, id, allocation_id, opened_at) VALUES (?, ?, ?, ?)")
      .run(kind, id, allocationId, this.clock());
  }
}
