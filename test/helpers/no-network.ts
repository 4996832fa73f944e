/**
 * Tests talk to this machine only: PostgreSQL, Redis and the local sandboxes.
 * Any connection elsewhere fails loudly instead of reaching the internet.
 */
import net from "node:net";

const LOCAL = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/;
type Connect = (this: net.Socket, ...args: unknown[]) => net.Socket;
// eslint-disable-next-line @typescript-eslint/unbound-method -- re-bound with apply below
const originalConnect = net.Socket.prototype.connect as Connect;

function targetHost(args: unknown[]): { host?: string; path?: string } {
  const [first, second] = args;
  // net.connect() calls socket.connect([options, callback]) with one normalised array
  if (Array.isArray(first)) return targetHost(first as unknown[]);
  if (typeof first === "object" && first !== null) return first;
  if (typeof first === "string" && Number.isNaN(Number(first))) return { path: first }; // unix socket
  return typeof second === "string" ? { host: second } : {};
}

net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]) {
  const { host, path } = targetHost(args);
  if (!path && host && !LOCAL.test(host)) {
    throw new Error(`tests may not connect to ${host}: only 127.0.0.1 is allowed`);
  }
  return originalConnect.apply(this, args);
};
