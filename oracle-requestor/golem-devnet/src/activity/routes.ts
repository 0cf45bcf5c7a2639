/**
 * The activity API operations golem-js uses (activity-api.yaml, requestor side), by
 * operationId. Batch results also stream as Server-Sent Events when asked with
 * `Accept: text/event-stream` (golem-js's runAndStream), in the shape yagna really sends
 * (control.rs stream_results: `event: runtime`, ya-client-model RuntimeEvent serialized
 * with snake_case fields, which golem-js reads as `kind.finished.return_code`) — that
 * shape differs from the spec's RuntimeEvent, so the stream is not checked against it.
 */
import type { ServerResponse } from "node:http";
import type { Handlers } from "../http.ts";
import { ok, queryNumber } from "../http.ts";
import type { Network } from "../network.ts";
import type { Batch, CommandResult } from "./batches.ts";

const DEFAULT_TIMEOUT_SEC = 5;

export function activityHandlers(network: Network): Handlers {
  const { activities } = network;
  return {
    createActivity: async (context) => {
      const body = context.body;
      const agreementId = typeof body === "string" ? body : String((body as { agreementId?: unknown }).agreementId ?? "");
      const id = await activities.create(agreementId, queryNumber(context, "timeout", DEFAULT_TIMEOUT_SEC));
      return ok(typeof body === "string" ? id : { activityId: id });
    },
    DestroyActivity: async (context) => {
      await activities.reach(context.params.activityId!, queryNumber(context, "timeout", DEFAULT_TIMEOUT_SEC), (record) =>
        activities.destroy(record),
      );
      return ok();
    },
    exec: async (context) => {
      const text = (context.body as { text?: unknown }).text;
      const batchId = await activities.reach(context.params.activityId!, DEFAULT_TIMEOUT_SEC, (record) =>
        activities.exec(record, String(text ?? "")),
      );
      return ok(batchId);
    },
    getExecBatchResults: async (context) => {
      const record = activities.get(context.params.activityId!);
      const batch = activities.batch(record, context.params.batchId!);
      const accept = String(context.headers.accept ?? "");
      if (accept.includes("text/event-stream")) return { stream: (response) => streamBatch(batch, response) };
      const timeoutSec = queryNumber(context, "timeout", 0);
      const commandIndex = context.query.commandIndex as number | undefined;
      const results = await activities.reach(record.id, timeoutSec, () => batch.query(commandIndex, timeoutSec, context.signal));
      return ok(results);
    },
    getActivityAgreement: ({ params }) => ok(activities.get(params.activityId!).agreementId),
    GetActivityState: async ({ params }) =>
      ok(await activities.reach(params.activityId!, DEFAULT_TIMEOUT_SEC, (record) => activities.state(record))),
    GetActivityUsage: async ({ params }) =>
      ok(
        await activities.reach(params.activityId!, DEFAULT_TIMEOUT_SEC, (record) => ({
          currentUsage: activities.usage(record.id),
          timestamp: Math.floor(network.clock.now() / 1000),
        })),
      ),
  };
}

function streamBatch(batch: Batch, response: ServerResponse): void {
  response.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
  let sequence = 0;
  const write = (kind: Record<string, unknown>, result: CommandResult) => {
    const event = { batch_id: batch.id, index: result.index, timestamp: result.eventDate.replace(/Z$/, ""), kind };
    response.write(`event: runtime\ndata: ${JSON.stringify(event)}\nid: ${sequence++}\n\n`);
  };
  const send = (result: CommandResult) => {
    write({ started: { command: batch.commands[result.index] } }, result);
    if (result.stdout) write({ stdout: result.stdout }, result);
    if (result.stderr) write({ stderr: result.stderr }, result);
    write({ finished: { return_code: result.result === "Ok" ? 0 : 1, message: result.message ?? null } }, result);
  };
  // Like yagna, the stream stays open (pinged every 15 s) until the client closes it.
  for (const result of batch.results) send(result);
  const stop = batch.listen(send);
  const ping = setInterval(() => response.write(":ping\n"), 15_000);
  response.on("close", () => {
    stop();
    clearInterval(ping);
  });
}
