import net from "node:net";
import { describe, expect, it } from "vitest";

describe("network guard", () => {
  it("refuses connections that leave this machine, before any lookup or packet", () => {
    expect(() => net.connect({ host: "example.invalid", port: 443 })).toThrow(/only 127.0.0.1 is allowed/);
    expect(() => net.connect(443, "example.invalid")).toThrow(/only 127.0.0.1 is allowed/);
  });

  it("allows loopback", async () => {
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port }, () => {
        socket.destroy();
        resolve();
      });
      socket.on("error", reject);
    });
    await new Promise((resolve) => server.close(resolve));
  });
});
