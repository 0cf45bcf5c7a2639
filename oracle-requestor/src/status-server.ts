/**
 * The oracle's HTTP face: `/healthz` (liveness and lag), `/metrics` (Prometheus),
 * `/requests/<id>` (where one request is in the pipeline), `/providers` (each Golem
 * provider's record: chunks, cross-checks, disagreements) and `/disagreements` (the
 * newest cross-checks that disagreed, with the CIDs of every answer); public information, so the
 * web UI and CLI may read it from any origin. Its shape: @argus/protocol/oracle-status.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { OracleMetrics } from "./metrics.ts";
import { rejectReasonName } from "@argus/escrow/reject-reasons";
import type { OracleRequestReport } from "@argus/protocol/oracle-status";
import type { RequestStore } from "./store/request-store.ts";
import type { ProviderRecord } from "./executors/executor.ts";
import type { DisagreementReport } from "./store/audit-evidence.ts";

export interface Health {
  ok: boolean;
  [key: string]: unknown;
}

export async function startStatusServer(deps: {
  host: string;
  port: number;
  store: RequestStore;
  metrics: OracleMetrics;
  health: () => Health;
  providers: () => readonly ProviderRecord[];
  disagreements: () => readonly DisagreementReport[];
}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const send = (status: number, body: unknown, type = "application/json") => {
      response.writeHead(status, { "content-type": type, "access-control-allow-origin": "*", "cache-control": "no-store" });
      response.end(
        typeof body === "string" ? body : JSON.stringify(body, (_, value) => (typeof value === "bigint" ? value.toString() : value)),
      );
    };
    const url = new URL(request.url ?? "/", "http://oracle");
    if (request.method !== "GET") return send(405, { error: "only GET" });
    if (url.pathname === "/healthz") {
      const health = deps.health();
      return send(health.ok ? 200 : 503, health);
    }
    if (url.pathname === "/metrics") {
      deps.metrics.registry.metrics().then(
        (text) => send(200, text, deps.metrics.registry.contentType),
        (error: Error) => send(500, { error: error.message }),
      );
      return;
    }
    if (url.pathname === "/providers") return send(200, { providers: deps.providers() });
    if (url.pathname === "/disagreements") return send(200, { disagreements: deps.disagreements() });
    const match = /^\/requests\/(\d{1,80})$/.exec(url.pathname);
    if (match) {
      const stored = deps.store.get(BigInt(match[1]!));
      if (!stored) return send(404, { error: "this oracle has not seen that request" });
      const { resultJson: _omitted, ...rest } = stored;
      const report: OracleRequestReport = {
        ...rest,
        rejectReasonName: rest.rejectReason === null ? null : rejectReasonName(rest.rejectReason),
      };
      return send(200, report);
    }
    send(404, { error: "not found: try /healthz, /metrics, /providers, /disagreements or /requests/<id>" });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(deps.port, deps.host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${deps.host}:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
