/**
 * A Golem executor in a process of its own, to be killed: it journals in the SQLite file
 * given (as the oracle does, store/golem-journal.ts), runs one-photo chunks one after
 * another on the devnet, and prints `chunk <n> done` after each. The test SIGKILLs it
 * while a chunk runs.
 *
 *   node crashing-executor.ts <devnet url> <app key> <image hash> <journal file>
 */
import { openDatabase } from "@argus/oracle/store/database";
import { SqliteGolemJournal } from "@argus/oracle/store/golem-journal";
import type { DevnetHandle } from "./yagna-harness.ts";
import { executorOn } from "./executor-run.ts";

const [url, appKey, hash, journalFile] = process.argv.slice(2);
if (!url || !appKey || !hash || !journalFile) throw new Error("usage: crashing-executor.ts <url> <app key> <image hash> <journal file>");
const handle = { devnet: { url, appKey }, hash } as unknown as DevnetHandle;
const run = await executorOn(handle, {}, { journal: new SqliteGolemJournal(openDatabase(journalFile)) });
await run.executor.ready();
for (let chunk = 1; ; chunk++) {
  await run.executor.run(await run.chunk());
  console.log(`chunk ${chunk} done`);
}
