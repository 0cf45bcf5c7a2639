/**
 * The oracle's durable queue: one SQLite file (node:sqlite, WAL). Every request and
 * every state change is written here before anything else happens, so a restart —
 * even after SIGKILL — resumes from this file alone.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";

const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

-- Hashes of blocks whose events have been read, to notice a reorg beneath the cursor.
CREATE TABLE IF NOT EXISTS read_blocks (
  number INTEGER PRIMARY KEY,
  hash TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS requests (
  request_id TEXT PRIMARY KEY,          -- uint256, decimal
  model_id INTEGER NOT NULL,
  requester TEXT NOT NULL,
  image_cid TEXT NOT NULL,
  fee TEXT NOT NULL,                    -- uint96, decimal
  deadline INTEGER NOT NULL,            -- unix seconds, chain time
  callback_gas_limit INTEGER NOT NULL,
  block_number INTEGER NOT NULL,
  block_hash TEXT NOT NULL,
  log_index INTEGER NOT NULL,
  state TEXT NOT NULL,
  received_at INTEGER NOT NULL,         -- ms, local clock
  updated_at INTEGER NOT NULL,
  not_before INTEGER NOT NULL DEFAULT 0, -- ms: back-off after a failed attempt
  attempts INTEGER NOT NULL DEFAULT 0,   -- failed fetch / execute / post attempts
  image_size INTEGER,
  chunk_id TEXT,
  reject_reason INTEGER,
  error TEXT,
  result_json BLOB,
  result_digest TEXT,
  top_class INTEGER,
  top_score INTEGER,
  result_cid TEXT,
  settle_tx TEXT,
  started_at INTEGER,
  settled_at INTEGER
) STRICT;
CREATE INDEX IF NOT EXISTS requests_by_state ON requests (state, model_id, received_at);

CREATE TABLE IF NOT EXISTS transactions (
  hash TEXT PRIMARY KEY,
  nonce INTEGER NOT NULL,
  kind TEXT NOT NULL,                   -- fulfil | reject
  request_ids TEXT NOT NULL,            -- JSON array of decimal ids
  raw TEXT NOT NULL,                    -- the signed transaction, to rebroadcast
  -- sent | mined (landed, watched until final) | final | reverted | replaced | dropped
  state TEXT NOT NULL,
  max_fee_per_gas TEXT NOT NULL,
  sent_at INTEGER NOT NULL,
  gas_used TEXT,
  gas_cost_wei TEXT,
  block_number INTEGER,                 -- where it landed (mined, final)
  block_hash TEXT
) STRICT;
CREATE INDEX IF NOT EXISTS transactions_by_state ON transactions (state, nonce);

-- Requests whose block a reorg took off the chain, as they were at that moment: kept
-- for the operator (the re-read brings back into requests those that still exist).
CREATE TABLE IF NOT EXISTS orphaned_requests (
  request_id TEXT NOT NULL,
  block_number INTEGER NOT NULL,
  block_hash TEXT NOT NULL,
  state TEXT NOT NULL,                  -- its state when its block left the chain
  settle_tx TEXT,
  fork_block INTEGER NOT NULL,          -- the newest block the old and new chain share
  orphaned_at INTEGER NOT NULL,
  PRIMARY KEY (request_id, block_hash)
) STRICT;

-- What the Golem executor has open on yagna (allocations, agreements awaiting their
-- invoice), so that a restart after a crash releases and pays them.
CREATE TABLE IF NOT EXISTS golem_open (
  kind TEXT NOT NULL,                   -- allocation | agreement
  id TEXT NOT NULL,
  allocation_id TEXT,                   -- an agreement's: what pays its invoice
  opened_at INTEGER NOT NULL,
  PRIMARY KEY (kind, id)
) STRICT;

-- What each Golem provider has done for this oracle (executors/golem/reputation.ts).
CREATE TABLE IF NOT EXISTS golem_providers (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  chunks INTEGER NOT NULL,
  audited INTEGER NOT NULL,
  agreed INTEGER NOT NULL,
  disagreed INTEGER NOT NULL,
  outvoted INTEGER NOT NULL,            -- caught giving wrong answers: banned, across restarts
  failures INTEGER NOT NULL,
  total_ms INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

-- Golem cross-checks that disagreed (executors/golem/audit.ts): every answer, pinned to
-- IPFS by the pin stage, so that each ban can be shown to anyone.
CREATE TABLE IF NOT EXISTS audit_disagreements (
  id INTEGER PRIMARY KEY,
  chunk_id TEXT NOT NULL,
  model_id INTEGER NOT NULL,
  request_ids TEXT NOT NULL,            -- JSON: the requests the answers differ on
  recorded_at INTEGER NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS audit_answers (
  disagreement_id INTEGER NOT NULL REFERENCES audit_disagreements (id),
  answer_index INTEGER NOT NULL,
  author_id TEXT NOT NULL,              -- a provider's node id, or 'oracle' (audit.local)
  author_name TEXT NOT NULL,
  outvoted INTEGER NOT NULL,            -- 1: this answer lost and its author was banned
  document BLOB NOT NULL,               -- the canonical JSON pinned
  cid TEXT,                             -- set once pinned
  PRIMARY KEY (disagreement_id, answer_index)
) STRICT;
-- The pin stage asks for unpinned answers on every pass: this finds them without reading the others.
CREATE INDEX IF NOT EXISTS audit_answers_unpinned ON audit_answers (disagreement_id, answer_index) WHERE cid IS NULL;

-- The prediction part of recent results, to answer the same image for the same model again.
CREATE TABLE IF NOT EXISTS result_cache (
  model_id INTEGER NOT NULL,
  image_cid TEXT NOT NULL,
  result_json BLOB NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (model_id, image_cid)
) STRICT;
`;

export function openDatabase(path: string): DatabaseSync {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  // NORMAL is durable across a process crash (SIGKILL); only power loss could lose the last commit.
  db.exec("PRAGMA synchronous = NORMAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec(SCHEMA);
  const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string } | undefined;
  if (version !== undefined && Number(version.value) === 1) migrateFromVersion1(db);
  else if (version !== undefined && Number(version.value) !== SCHEMA_VERSION) {
    throw new Error(`${path} has queue schema ${version.value}; this oracle reads schema ${SCHEMA_VERSION}`);
  }
  if (version === undefined) db.prepare("INSERT INTO meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
  return db;
}

/**
 * Schema 1 did not record where a settlement landed, and took a mined one as done: those
 * stay done (`final`), since there is no block to watch them by.
 */
function migrateFromVersion1(db: DatabaseSync): void {
  inTransaction(db, () => {
    db.exec("ALTER TABLE transactions ADD COLUMN block_number INTEGER");
    db.exec("ALTER TABLE transactions ADD COLUMN block_hash TEXT");
    db.exec("UPDATE transactions SET state = 'final' WHERE state = 'mined'");
    db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(String(SCHEMA_VERSION));
  });
}

/** Runs `work` in one transaction: all its writes land, or none do. */
export function inTransaction<T>(db: DatabaseSync, work: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = work();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    db.exec("ROLLBACK");
    throw error;
  }
}
