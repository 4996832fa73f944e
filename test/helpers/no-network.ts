/**
 * Tests talk to this machine only: PostgreSQL, Redis and the local sandboxes.
 * Any connection elsewhere fails loudly instead of reaching the internet.
 */
import net from "node:net";

const LOCAL = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;
const originalConnect = net.Socket.prototype.connect;

net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]) {
  const [first] = args;
  const options = (typeof first === "object" && first !== null ? first : { host: args[1] }) as { host?: string; path?: string };
  if (!options.path && options.host && !LOCAL.test(options.host)) {
    throw new Error(`tests may not connect to ${options.host}: only 127.0.0.1 is allowed`);
  }
  return (originalConnect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
