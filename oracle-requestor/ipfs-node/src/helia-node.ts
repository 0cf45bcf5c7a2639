/**
 * The Helia node behind the RPC API and the gateway: our verified filesystem
 * blockstore, a filesystem datastore for pins, and the local-arrival broker.
 *
 * Offline by default: `createHeliaLight` has no libp2p, no bitswap and no HTTP
 * gateways, so the node never opens a connection. With `networking` it is a full
 * `createHelia` node (libp2p with Helia's default transports and bootstrap peers,
 * bitswap, trustless HTTP gateways) that uses the same stores and the same identity.
 */
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { FsDatastore } from "datastore-fs";
import { createHelia, createHeliaLight } from "helia";
import type { Helia } from "helia";
import { BlockArrivals, localArrivalBroker } from "./block-arrivals.ts";
import { VerifiedFsBlockstore } from "./block-store.ts";
import type { NodePrivateKey, RepoPaths } from "./repo.ts";

export interface HeliaNode {
  helia: Helia;
  blockstore: VerifiedFsBlockstore;
  datastore: FsDatastore;
  arrivals: BlockArrivals;
  peerId: string;
  privateKey: NodePrivateKey;
  /** Multiaddrs the node listens on for peers (empty when offline). */
  listenAddresses(): string[];
}

export interface HeliaNodeInit {
  paths: RepoPaths;
  privateKey: NodePrivateKey;
  readTimeoutMs: number;
  networking: boolean;
}

export async function startHeliaNode(init: HeliaNodeInit): Promise<HeliaNode> {
  const arrivals = new BlockArrivals();
  const blockstore = new VerifiedFsBlockstore(init.paths.blocksDir, {
    onStored: (cid) => arrivals.notifyStored(cid),
  });
  const datastore = new FsDatastore(init.paths.datastoreDir);
  await blockstore.open();
  await datastore.open();

  const heliaInit = {
    blockstore,
    datastore,
    blockBrokers: [localArrivalBroker(arrivals, blockstore, init.readTimeoutMs)],
  };
  let listenAddresses: () => string[] = () => [];
  let helia: Helia;
  if (init.networking) {
    const networked = await createHelia({ ...heliaInit, libp2p: { privateKey: init.privateKey } });
    listenAddresses = () => networked.libp2p.getMultiaddrs().map((address) => address.toString());
    helia = networked;
  } else {
    helia = createHeliaLight(heliaInit);
  }
  try {
    await helia.start();
  } catch (error) {
    await blockstore.close();
    await datastore.close();
    throw error;
  }

  return {
    helia,
    blockstore,
    datastore,
    arrivals,
    peerId: peerIdFromPrivateKey(init.privateKey).toString(),
    privateKey: init.privateKey,
    listenAddresses,
  };
}

export async function stopHeliaNode(node: HeliaNode): Promise<void> {
  await node.helia.stop();
  await node.blockstore.close();
  await node.datastore.close();
}
