/**
 * File transfers between the oracle and its providers, in place of golem-js 3.6's
 * WebSocketStorageProvider: the same gftp-over-GSB protocol (a service bound at
 * `/public/gftp/<id>`, reached over yagna's GSB WebSocket, flexbuffers {id, component,
 * payload}), with three things that one gets wrong for an oracle:
 *
 * - a download is capped: a provider that streams more than `maxReceiveBytes` into a
 *   results file is cut off (the service unbound, the socket closed, the partial file
 *   deleted) instead of filling the disk, and `receiveOverflow(path)` says so;
 * - the socket's scheme follows yagna's URL (wss for https), where golem-js always uses ws;
 * - each uploaded chunk is a copy of its bytes: golem-js encodes a Buffer view with its
 *   whole backing store (see exe-script.ts).
 *
 * golem-js calls `receiveFile` for `downloadFile` and `publishData` for `uploadData`;
 * `receiveData` (broken in golem-js 3.6 under ESM) is refused.
 */
import { open, readFile, rm } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import type { StorageProvider, YagnaApi } from "@golem-sdk/golem-js";
import { encode, toObject } from "flatbuffers/js/flexbuffers.js";
import WebSocket from "ws";

interface GsbCall {
  id: string;
  component: string;
  payload: { offset?: number; size?: number; chunk?: { offset: number; content: Uint8Array } };
}

/** How a capped download ended early. */
export interface ReceiveOverflow {
  /** Bytes the provider had sent when it was cut off (more than the cap). */
  receivedBytes: number;
  maxBytes: number;
}

export class GftpTransfers implements StorageProvider {
  readonly #maxReceiveBytes: number;
  #yagna: YagnaApi | undefined;
  #ready = false;
  /** gftp URL → GSB service id and its socket. */
  readonly #services = new Map<string, { serviceId: string; socket: WebSocket }>();
  readonly #overflows = new Map<string, ReceiveOverflow>();
  readonly #openFiles = new Set<FileHandle>();

  constructor(options: { maxReceiveBytes: number }) {
    this.#maxReceiveBytes = options.maxReceiveBytes;
  }

  /** The yagna client to bind services with (GolemNetwork's own, before it connects). */
  bind(yagna: YagnaApi): void {
    this.#yagna = yagna;
  }

  async init(): Promise<void> {
    if (this.#yagna === undefined) throw new Error("GftpTransfers.bind(yagna) must be called before init");
    this.#ready = true;
  }

  isReady(): boolean {
    return this.#ready;
  }

  /** Set when the download into `path` was cut off for passing the cap. */
  receiveOverflow(path: string): ReceiveOverflow | undefined {
    return this.#overflows.get(path);
  }

  async publishData(data: Uint8Array): Promise<string> {
    const { url, socket } = await this.#serve(["GetMetadata", "GetChunk"]);
    socket.on("message", (message: Buffer) => {
      const call = this.#decode(message);
      if (call?.component === "GetMetadata") this.#respond(socket, call.id, { fileSize: data.byteLength });
      else if (call?.component === "GetChunk") {
        const offset = call.payload.offset ?? 0;
        const content = data.slice(offset, offset + (call.payload.size ?? 0));
        // A standalone copy: flexbuffers would encode a view's whole backing store.
        this.#respond(socket, call.id, { content: new Uint8Array(content), offset });
      }
    });
    return url;
  }

  async publishFile(path: string): Promise<string> {
    return this.publishData(new Uint8Array(await readFile(path)));
  }

  async receiveFile(path: string): Promise<string> {
    this.#overflows.delete(path);
    const file = await open(path, "w");
    this.#openFiles.add(file);
    const { url, socket } = await this.#serve(["UploadChunk", "UploadFinished"]);
    let received = 0;
    let cut = false;
    let writes: Promise<unknown> = Promise.resolve();
    const closeFile = () => {
      this.#openFiles.delete(file);
      return file.close().catch(() => undefined);
    };
    socket.on("message", (message: Buffer) => {
      const call = this.#decode(message);
      if (call === undefined || cut) return;
      if (call.component === "UploadChunk" && call.payload.chunk) {
        const { offset, content } = call.payload.chunk;
        received += content.byteLength;
        if (received > this.#maxReceiveBytes || offset + content.byteLength > this.#maxReceiveBytes) {
          cut = true;
          this.#overflows.set(path, { receivedBytes: received, maxBytes: this.#maxReceiveBytes });
          // Unbound and closed: the provider's next chunk fails, and its transfer with it.
          void this.release([url]);
          writes = writes.then(closeFile).then(() => rm(path, { force: true }));
          return;
        }
        writes = writes.then(() => file.write(content, 0, content.byteLength, offset)).then(() => this.#respond(socket, call.id, null));
        writes.catch(() => undefined);
      } else if (call.component === "UploadFinished") {
        writes = writes.then(closeFile).then(() => this.#respond(socket, call.id, null));
        writes.catch(() => undefined);
      }
    });
    return url;
  }

  async receiveData(): Promise<string> {
    throw new Error("receiveData is not supported: download into a file (downloadFile)");
  }

  async release(urls: string[]): Promise<void> {
    await Promise.all(
      urls.map(async (url) => {
        const service = this.#services.get(url);
        if (service === undefined) return;
        this.#services.delete(url);
        service.socket.close();
        await this.#yagna?.gsb.unbindServices(service.serviceId).catch(() => undefined);
      }),
    );
  }

  async close(): Promise<void> {
    this.#ready = false;
    await Promise.all([...this.#openFiles].map((file) => file.close().catch(() => undefined)));
    this.#openFiles.clear();
    await this.release([...this.#services.keys()]);
  }

  async #serve(components: string[]): Promise<{ url: string; socket: WebSocket }> {
    const yagna = this.#yagna;
    if (yagna === undefined) throw new Error("GftpTransfers is not bound to yagna");
    const fileId = randomUUID();
    const me = (await yagna.identity.getIdentity()).identity;
    const url = `gftp://${me}/${fileId}`;
    const { servicesId } = (await yagna.gsb.bindServices({ listen: { on: `/public/gftp/${fileId}`, components } })) as {
      servicesId: string;
    };
    const socket = new WebSocket(gsbServiceUrl(yagna.basePath, servicesId, yagna.yagnaOptions.apiKey ?? ""), ["gsb+flexbuffers"]);
    socket.binaryType = "nodebuffer";
    socket.on("error", () => {}); // a broken socket fails the provider's transfer, which the command reports
    this.#services.set(url, { serviceId: servicesId, socket });
    return { url, socket };
  }

  #decode(message: Buffer): GsbCall | undefined {
    try {
      const bytes = new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
      return toObject(bytes.slice().buffer) as unknown as GsbCall;
    } catch {
      return undefined;
    }
  }

  #respond(socket: WebSocket, id: string, payload: unknown): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(encode({ id, payload }));
  }
}

/** Where a bound GSB service is served: yagna's own origin, `wss` when yagna is reached over https, `ws` otherwise. */
export function gsbServiceUrl(yagnaUrl: string, servicesId: string, appKey: string): URL {
  const endpoint = new URL(`/gsb-api/v1/services/${servicesId}`, yagnaUrl);
  endpoint.searchParams.set("authToken", appKey);
  endpoint.protocol = endpoint.protocol === "https:" ? "wss:" : "ws:";
  return endpoint;
}
