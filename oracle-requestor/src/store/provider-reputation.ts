/** The Golem providers' records (executors/golem/reputation.ts) in the oracle's durable queue. */
import type { DatabaseSync } from "node:sqlite";
import type { ProviderRecord } from "../executors/executor.ts";
import type { ReputationStore } from "../executors/golem/reputation.ts";
import { inTransaction } from "./database.ts";

const FIGURES = ["chunks", "audited", "agreed", "disagreed", "outvoted", "failures"] as const;

export class SqliteReputationStore implements ReputationStore {
  private readonly db: DatabaseSync;
  private readonly clock: () => number;

  constructor(db: DatabaseSync, clock: () => number = Date.now) {
    this.db = db;
    this.clock = clock;
  }

  load(): ProviderRecord[] {
    return this.db
      .prepare(`SELECT id, name, ${FIGURES.join(", ")}, total_ms FROM golem_providers`)
      .all()
      .map((row) => ({
        id: String(row.id),
        name: String(row.name),
        ...(Object.fromEntries(FIGURES.map((figure) => [figure, Number(row[figure])])) as Record<(typeof FIGURES)[number], number>),
        totalMs: Number(row.total_ms),
      }));
  }

  save(records: readonly ProviderRecord[]): void {
    const upsert = this.db.prepare(
      `INSERT INTO golem_providers (id, name, ${FIGURES.join(", ")}, total_ms, updated_at)
       VALUES (?, ?, ${FIGURES.map(() => "?").join(", ")}, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, ${FIGURES.map((figure) => `${figure} = excluded.${figure}`).join(", ")},
         total_ms = excluded.total_ms, updated_at = excluded.updated_at`,
    );
    inTransaction(this.db, () => {
      for (const record of records)
        upsert.run(record.id, record.name, ...FIGURES.map((figure) => record[figure]), Math.round(record.totalMs), this.clock());
    });
  }
}
