/** Which address a gateway request counts against, directly and behind reverse proxies. */
import { expect } from "chai";
import { clientAddressOf } from "@argus/gateway/client-address";

describe("gateway: the client address rate limits count", () => {
  it("is the socket's address when no proxy is trusted, whatever the request claims", () => {
    expect(clientAddressOf("203.0.113.9", "198.51.100.1", 0)).to.equal("203.0.113.9");
    expect(clientAddressOf(undefined, undefined, 0)).to.equal("unknown");
  });

  it("behind proxies, is the entry the outermost trusted proxy wrote, not what the client put before it", () => {
    // The client forged "1.1.1.1"; proxy A saw it come from 198.51.100.7, proxy B from A (10.0.0.2).
    const header = "1.1.1.1, 198.51.100.7, 10.0.0.2";
    expect(clientAddressOf("10.0.0.3", header, 1)).to.equal("10.0.0.2");
    expect(clientAddressOf("10.0.0.3", header, 2)).to.equal("198.51.100.7");
    expect(clientAddressOf("10.0.0.3", " 198.51.100.7 ,10.0.0.2 ", 2)).to.equal("198.51.100.7");
  });

  it("falls back to the socket when the request did not come through the proxies", () => {
    expect(clientAddressOf("203.0.113.9", undefined, 1)).to.equal("203.0.113.9");
    expect(clientAddressOf("203.0.113.9", "10.0.0.2", 2)).to.equal("203.0.113.9");
    expect(clientAddressOf("203.0.113.9", " , ", 1)).to.equal("203.0.113.9");
  });
});
