/**
 * Which client a request counts against for rate limiting.
 *
 * Directly on the internet, that is the socket's remote address. Behind reverse proxies
 * (nginx, a load balancer, a CDN) every socket comes from the last proxy, so all clients
 * would share one bucket; each proxy appends the address it received the request from to
 * `X-Forwarded-For`. With `trustedProxyHops` proxies in front, the client is the entry
 * that many places from the right. Entries further left were written by the client
 * itself and prove nothing, so they are never used: a header shorter than the hop count
 * means the request did not come through the proxies, and the socket address counts.
 */
export function clientAddressOf(socketAddress: string | undefined, forwardedFor: string | undefined, trustedProxyHops: number): string {
  const socket = socketAddress ?? "unknown";
  if (trustedProxyHops === 0 || forwardedFor === undefined) return socket;
  const hops = forwardedFor
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  return hops[hops.length - trustedProxyHops] ?? socket;
}
