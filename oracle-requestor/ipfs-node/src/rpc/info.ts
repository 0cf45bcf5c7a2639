/** `id` and `version`: who this node is, in Kubo's shapes. */
import { arch, platform } from "node:os";
import { publicKeyToProtobuf } from "@libp2p/crypto/keys";
import type { RpcCall } from "./context.ts";
import { RpcError } from "./errors.ts";
import { sendJson } from "./respond.ts";

/** Tells tools they are talking to the embedded node, not to Kubo. */
export const AGENT_NAME = "argus-embedded-ipfs";

export async function handleId(call: RpcCall): Promise<void> {
  const { node } = call.context;
  const asked = call.params.string("arg");
  if (asked !== undefined && asked !== node.peerId) {
    throw new RpcError(`looking up other peers is not supported by this node (asked for ${asked})`);
  }
  sendJson(call.response, {
    ID: node.peerId,
    PublicKey: Buffer.from(publicKeyToProtobuf(node.privateKey.publicKey)).toString("base64"),
    Addresses: node.listenAddresses().map((address) => (address.includes("/p2p/") ? address : `${address}/p2p/${node.peerId}`)),
    AgentVersion: `${AGENT_NAME}/${node.helia.info.version} (${node.helia.info.name})`,
    ProtocolVersion: "ipfs/0.1.0",
    Protocols: [],
  });
}

export async function handleVersion(call: RpcCall): Promise<void> {
  const { helia } = call.context.node;
  sendJson(call.response, {
    Version: helia.info.version,
    Commit: AGENT_NAME,
    Repo: "argus-1",
    System: `${arch()}/${platform()}`,
    Golang: "",
    Implementation: `${helia.info.name} on Node.js ${process.version}`,
  });
}
