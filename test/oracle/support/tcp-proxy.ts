/**
 * A TCP proxy for outage tests: the oracle talks to an endpoint (JSON-RPC, IPFS RPC)
 * through it, and the test takes the endpoint "down" — the listener is closed, so new
 * connections are refused, and every open connection is destroyed — then brings it back
 * on the same port. Loopback only.
 */
import { connect, createServer, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** The target URL with the proxy's host and port. */
  url: string;
  readonly isDown: boolean;
  /** Refuse new connections and destroy the open ones. */
  down(): Promise<void>;
  /** Accept connections again (same port). */
  up(): Promise<void>;
  /** down() for `ms`, then up(). */
  outage(ms: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const targetPort = Number(target.port || (target.protocol === "https:" ? 443 : 80));
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let port = 0;

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };

  async function listen(): Promise<void> {
    const next = createServer((client) => {
      const upstream = connect(targetPort, target.hostname);
      track(client);
      track(upstream);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      next.once("error", reject);
      next.listen(port, "127.0.0.1", () => resolve());
    });
    port = (next.address() as { port: number }).port;
    server = next;
  }

  async function down(): Promise<void> {
    const closing = server;
    server = undefined;
    for (const socket of sockets) socket.destroy();
    if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
  }

  async function up(): Promise<void> {
    if (!server) await listen();
  }

  await listen();
  const url = new URL(targetUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString().replace(/\/$/, ""),
    get isDown() {
      return server === undefined;
    },
    down,
    up,
    async outage(ms) {
      await down();
      await new Promise((resolve) => setTimeout(resolve, ms));
      await up();
    },
    close: down,
  };
}
