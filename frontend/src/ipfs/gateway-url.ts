/** Where the deployment's IPFS gateway serves the file `cid` names: one spelling for every link and image. */
export function gatewayFileUrl(gatewayUrl: string, cid: string): string {
  return `${gatewayUrl.replace(/\/$/, "")}/ipfs/${cid}`;
}
