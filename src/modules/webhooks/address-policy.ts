/**
 * Which webhook URLs and addresses we may POST to (SSRF). In production an
 * endpoint must be https and every address its host resolves to must be
 * public: not loopback, private, link-local, shared (CGNAT), multicast,
 * reserved, or a cloud metadata address, in IPv4 or in any IPv6 form that
 * embeds an IPv4 address (mapped, compatible, NAT64, 6to4). Development and
 * tests relax exactly two rules, so a receiver on the developer's own machine
 * works: http:// is taken, and loopback addresses (127.0.0.0/8, ::1, and
 * 127.x written IPv4-mapped) are. Private, link-local and metadata addresses
 * stay refused in every mode: a developer's laptop or a CI runner sits on
 * networks and clouds of its own. Pure functions: resolving and connecting
 * happen in transport.ts.
 */
import { isIPv4, isIPv6 } from "node:net";

interface Cidr {
  base: bigint;
  prefix: number;
}

interface Range extends Cidr {
  /** Completes "10.0.0.5 is ..." */
  label: string;
}

export interface AddressPolicy {
  /** http:// and loopback addresses taken (development and tests); never by default in production. */
  allowLoopback: boolean;
}

/** Production's policy. */
export const STRICT: AddressPolicy = { allowLoopback: false };

/** Callers validate first (isIPv4); a malformed part reads as 0 rather than throwing. */
function ipv4ToBigInt(address: string): bigint {
  return address.split(".").reduce((value, part) => (value << 8n) | BigInt(Number(part) || 0), 0n);
}

/**
 * The 8 groups of an IPv6 address as one 128-bit number; the textual forms ::
 * and a trailing dotted quad included. Callers validate first (isIPv6).
 */
function ipv6ToBigInt(address: string): bigint {
  let text = address.split("%")[0] ?? address; // a zone index (fe80::1%eth0) names an interface, not an address
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const v4 = ipv4ToBigInt(dotted[1]);
    text = `${text.slice(0, -dotted[1].length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = "", tail] = text.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill("0"), ...tailGroups];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16) || 0), 0n);
}

function range4(cidr: string, label: string): Range {
  const [base = "", prefix = "32"] = cidr.split("/");
  return { base: ipv4ToBigInt(base), prefix: Number(prefix), label };
}

function cidr6(cidr: string): Cidr {
  const [base = "", prefix = "128"] = cidr.split("/");
  return { base: ipv6ToBigInt(base), prefix: Number(prefix) };
}

function range6(cidr: string, label: string): Range {
  return { ...cidr6(cidr), label };
}

function inRange(value: bigint, range: Cidr, width: number): boolean {
  const shift = BigInt(width - range.prefix);
  return value >> shift === range.base >> shift;
}

const PRIVATE = "a private address";
const LOOPBACK = "a loopback address";
const RESERVED = "a reserved address";
const DOCUMENTATION = "a documentation address";
const METADATA = "a cloud metadata address";

/** First match wins: the narrow metadata addresses come before the ranges that contain them. */
const IPV4_RANGES: Range[] = [
  range4("169.254.169.254/32", METADATA),
  range4("0.0.0.0/8", "an unspecified address (0.0.0.0/8)"),
  range4("10.0.0.0/8", PRIVATE),
  range4("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
  range4("127.0.0.0/8", LOOPBACK),
  range4("169.254.0.0/16", "a link-local address"),
  range4("172.16.0.0/12", PRIVATE),
  range4("192.0.0.0/24", RESERVED),
  range4("192.0.2.0/24", DOCUMENTATION),
  range4("192.88.99.0/24", RESERVED),
  range4("192.168.0.0/16", PRIVATE),
  range4("198.18.0.0/15", RESERVED),
  range4("198.51.100.0/24", DOCUMENTATION),
  range4("203.0.113.0/24", DOCUMENTATION),
  range4("224.0.0.0/4", "a multicast address"),
  range4("240.0.0.0/4", RESERVED),
];

const IPV6_RANGES: Range[] = [
  range6("fd00:ec2::254/128", METADATA),
  range6("::/128", "an unspecified address (::)"),
  range6("::1/128", LOOPBACK),
  range6("64:ff9b:1::/48", RESERVED),
  range6("100::/64", RESERVED),
  range6("2001::/32", "a Teredo tunnel address"),
  range6("2001:db8::/32", DOCUMENTATION),
  range6("fc00::/7", "a unique local (private) address"),
  range6("fe80::/10", "a link-local address"),
  range6("fec0::/10", "a site-local address"),
  range6("ff00::/8", "a multicast address"),
];

/**
 * IPv6 forms that carry an IPv4 address, judged by that address: IPv4-mapped,
 * IPv4-compatible, NAT64, and 6to4. [range, how far right of the IPv4 address's last bit the range ends].
 * Only the mapped form reaches the IPv4 address itself (the system connects to it over IPv4):
 * the others are routed elsewhere, so a loopback address inside them is no loopback.
 */
const IPV4_MAPPED = cidr6("::ffff:0:0/96");
const EMBEDDING_IPV4: [Cidr, number][] = [
  [IPV4_MAPPED, 0],
  [cidr6("::/96"), 0],
  [cidr6("64:ff9b::/96"), 0],
  [cidr6("2002::/16"), 80],
];

function ipv4Refusal(value: bigint): string | null {
  return IPV4_RANGES.find((range) => inRange(value, range, 32))?.label ?? null;
}

/** What `address` is when we must not connect to it in production, and whether it is the machine itself. */
function classify(address: string): { label: string; loopback: boolean } | null {
  if (isIPv4(address)) {
    const label = ipv4Refusal(ipv4ToBigInt(address));
    return label ? { label, loopback: label === LOOPBACK } : null;
  }
  const bare = address.split("%")[0] ?? address;
  if (!isIPv6(bare)) return { label: "not an IP address", loopback: false };
  const value = ipv6ToBigInt(bare);
  const own = IPV6_RANGES.find((range) => inRange(value, range, 128));
  if (own) return { label: own.label, loopback: own.label === LOOPBACK };
  for (const [range, shift] of EMBEDDING_IPV4) {
    if (!inRange(value, range, 128)) continue;
    const label = ipv4Refusal((value >> BigInt(shift)) & 0xffffffffn);
    return label ? { label, loopback: label === LOOPBACK && range === IPV4_MAPPED } : null;
  }
  return null;
}

/**
 * Why we must not connect to `address` (an IP literal) under `policy`, or
 * null when we may. Input that is not an IP address is refused too.
 */
export function addressRefusal(address: string, policy: AddressPolicy = STRICT): string | null {
  const found = classify(address);
  if (!found || (found.loopback && policy.allowLoopback)) return null;
  return found.label;
}

/** A URL's hostname as an address or a name: IPv6 literals lose their brackets. */
export function hostOf(url: URL): string {
  return url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
}

export function isIpLiteral(host: string): boolean {
  return isIPv4(host) || isIPv6(host);
}

export const MAX_URL_LENGTH = 2048;

/**
 * What is wrong with `raw` as an endpoint URL before any name is resolved,
 * or null. https only unless loopback is allowed; an IP literal (or
 * localhost) must pass addressRefusal. Names are checked once resolved (addressesRefusal).
 */
export function urlRefusal(raw: string, policy: AddressPolicy): string | null {
  if (raw.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "must be an absolute URL such as https://shop.example/webhooks";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an https:// URL";
  // Credentials in the URL would sit in our database in plain text: the signature is how a receiver knows it is us.
  if (url.username !== "" || url.password !== "") return "must not contain a user name or password; verify the Expertline-Signature header instead";
  if (url.hash !== "") return "must not contain a #fragment";
  if (url.protocol !== "https:" && !policy.allowLoopback) return "must be an https:// URL";
  const host = hostOf(url);
  if ((host === "localhost" || host.endsWith(".localhost")) && !policy.allowLoopback) return `must not point to ${host}: ${LOOPBACK}`;
  if (isIpLiteral(host)) {
    const refusal = addressRefusal(host, policy);
    if (refusal) return `must not point to ${host}: ${refusal}`;
  }
  return null;
}

export interface HostRefusal {
  /**
   * What the shop is told (the 400, the delivery log, the disabled event).
   * Never the address a name resolved to: that would let a shop map our internal DNS.
   */
  reason: string;
  /** What we log on our side: the first address refused, and why. */
  detail: string;
}

/** Why a host that resolved to `addresses` must not be called, or null when every address passes addressRefusal. */
export function addressesRefusal(host: string, addresses: readonly string[], policy: AddressPolicy): HostRefusal | null {
  if (addresses.length === 0) {
    const reason = `${host} does not resolve to any address`;
    return { reason, detail: reason };
  }
  for (const address of addresses) {
    const refusal = addressRefusal(address, policy);
    if (!refusal) continue;
    // An address the shop wrote itself can be named back to it.
    if (address === host) return { reason: `${host} is ${refusal}`, detail: `${host} is ${refusal}` };
    return { reason: `${host} resolves to a non-public address`, detail: `${host} resolves to ${address}, ${refusal}` };
  }
  return null;
}
