/**
 * Disagreements found by the Golem executor's cross-checks, in the oracle's durable
 * queue: each answer is kept as the document the pin stage pins to IPFS, so that a ban
 * can be justified to anyone — the answers, who gave them and which lost.
 */
import type { DatabaseSync } from "node:sqlite";
import { canonicalJsonBytes } from "@argus/protocol/canonical-json";
import type { DisagreementEvidence } from "../executors/executor.ts";
import { inTransaction } from "./database.ts";

/** One answer as pinned: self-describing, so a reader needs nothing else to see what it claims. */
export interface PinnedAnswer {
  kind: "argus-audit-answer";
  chunkId: string;
  modelId: number;
  /** A Golem provider, or the oracle's own engine (audit.local). */
  by: { id: string; name: string } | "oracle";
  outvoted: boolean;
  /** The requests on which the answers of this disagreement differ. */
  disputedRequestIds: string[];
  results: DisagreementEvidence["answers"][number]["results"];
}

export interface DisagreementReport {
  id: number;
  chunkId: string;
  modelId: number;
  requestIds: string[];
  recordedAt: number;
  answers: { by: string; name: string; outvoted: boolean; cid: string | null }[];
}

export class AuditEvidenceStore {
  private readonly db: DatabaseSync;
  private readonly clock: () => number;

  constructor(db: DatabaseSync, clock: () => number = Date.now) {
    this.db = db;
    this.clock = clock;
  }

  /** Keeps a disagreement and its answers, to be pinned. */
  record(chunkId: string, modelId: number, evidence: DisagreementEvidence): number {
    return inTransaction(this.db, () => {
      const { lastInsertRowid } = this.db
        .prepare("INSERT INTO audit_disagreements (chunk_id, model_id, request_ids, recorded_at) VALUES (?, ?, ?, ?)")
        .run(chunkId, modelId, JSON.stringify(evidence.requestIds), this.clock());
      const id = Number(lastInsertRowid);
      const insert = this.db.prepare(
        "INSERT INTO audit_answers (disagreement_id, answer_index, author_id, author_name, outvoted, document) VALUES (?, ?, ?, ?, ?, ?)",
      );
      for (const [index, answer] of evidence.answers.entries()) {
        const document: PinnedAnswer = {
          kind: "argus-audit-answer",
          chunkId,
          modelId,
          by: answer.by,
          outvoted: answer.outvoted,
          disputedRequestIds: evidence.requestIds,
          results: answer.results,
        };
        const [authorId, authorName] = answer.by === "oracle" ? ["oracle", "the oracle's engine"] : [answer.by.id, answer.by.name];
        insert.run(id, index, authorId, authorName, answer.outvoted ? 1 : 0, canonicalJsonBytes(document));
      }
      return id;
    });
  }

  /** Answers not pinned yet, oldest first. */
  unpinned(limit: number): { disagreementId: number; answerIndex: number; document: Uint8Array }[] {
    return this.db
      .prepare(
        "SELECT disagreement_id, answer_index, document FROM audit_answers WHERE cid IS NULL ORDER BY disagreement_id, answer_index LIMIT ?",
      )
      .all(limit)
      .map((row) => ({
        disagreementId: Number(row.disagreement_id),
        answerIndex: Number(row.answer_index),
        document: new Uint8Array(row.document as Uint8Array),
      }));
  }

  markPinned(disagreementId: number, answerIndex: number, cid: string): void {
    this.db
      .prepare("UPDATE audit_answers SET cid = ? WHERE disagreement_id = ? AND answer_index = ?")
      .run(cid, disagreementId, answerIndex);
  }

  /** The newest disagreements, newest first, with their answers' CIDs (null until pinned). */
  recent(limit: number): DisagreementReport[] {
    const disagreements = this.db
      .prepare("SELECT id, chunk_id, model_id, request_ids, recorded_at FROM audit_disagreements ORDER BY id DESC LIMIT ?")
      .all(limit);
    const answers = this.db.prepare(
      "SELECT author_id, author_name, outvoted, cid FROM audit_answers WHERE disagreement_id = ? ORDER BY answer_index",
    );
    return disagreements.map((row) => ({
      id: Number(row.id),
      chunkId: String(row.chunk_id),
      modelId: Number(row.model_id),
      requestIds: JSON.parse(String(row.request_ids)) as string[],
      recordedAt: Number(row.recorded_at),
      answers: answers.all(Number(row.id)).map((answer) => ({
        by: String(answer.author_id),
        name: String(answer.author_name),
        outvoted: answer.outvoted === 1,
        cid: answer.cid === null ? null : String(answer.cid),
      })),
    }));
  }
}
