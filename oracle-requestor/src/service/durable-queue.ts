/**
 * The durable queue and image spool of one escrow on one chain, recovered after a
 * restart: chunks that were running go back to the queue, and spooled images and work
 * folders nobody will read again are removed.
 */
import type { DatabaseSync } from "node:sqlite";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Address } from "viem";
import type { OracleConfig } from "../config.ts";
import { removeOrphanedWorkDirs } from "../executors/work-dirs.ts";
import { ImageSpool } from "../pipeline/image-spool.ts";
import { AuditEvidenceStore } from "../store/audit-evidence.ts";
import { openDatabase } from "../store/database.ts";
import { RequestStore } from "../store/request-store.ts";

export interface DurableQueue {
  db: DatabaseSync;
  store: RequestStore;
  spool: ImageSpool;
  /** Providers' disagreeing answers, kept to be pinned. */
  evidence: AuditEvidenceStore;
}

export async function openDurableQueue(config: OracleConfig, chainId: number, escrow: Address, log: Logger): Promise<DurableQueue> {
  const db = openDatabase(join(config.dataDir, `queue-${chainId}-${escrow.toLowerCase()}.sqlite`));
  const store = new RequestStore(db);
  const spool = new ImageSpool(join(config.dataDir, `spool-${chainId}-${escrow.toLowerCase()}`));
  await spool.init();
  const requeued = store.requeueRunning();
  const swept = await spool.sweep((id) => ["received", "ready", "running"].includes(store.get(id)?.state ?? ""));
  const orphanedWorkDirs = await removeOrphanedWorkDirs();
  log.info({ requeued, swept, orphanedWorkDirs }, "queue recovered");
  return { db, store, spool, evidence: new AuditEvidenceStore(db) };
}
