/**
 * Who is calling: the platform admin (ADMIN_API_KEY) or a shop (one of its
 * API keys). Route groups opt in with `requireAdmin` / `requireShop` hooks;
 * the shop id found here is the only tenant filter services ever use.
 */
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import type { Deps } from "../deps.js";
import { API_KEY_PATTERN, safeEqual, sha256Hex } from "../lib/tokens.js";
import { sendProblem } from "./errors.js";
import { problem } from "./problem.js";

/** An admin is named (ADMIN_API_KEYS; ADMIN_API_KEY is "admin"), so decisions record who made them. */
export type Caller = { kind: "admin"; name: string } | { kind: "shop"; shopId: string; apiKeyId: string };

declare module "fastify" {
  interface FastifyRequest {
    caller: Caller | null;
  }
}

/** Shop routes read the tenant from here; it is set by requireShop. */
export function shopIdOf(request: FastifyRequest): string {
  if (request.caller?.kind !== "shop") throw new Error("shop route registered without requireShop");
  return request.caller.shopId;
}

function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}

function unauthorized(request: FastifyRequest, reply: FastifyReply, detail: string) {
  reply.header("www-authenticate", 'Bearer realm="expertline"');
  return sendProblem(request, reply, problem(401, "unauthorized", detail));
}

/** lastUsedAt is informational: write it at most once a minute per key. */
const LAST_USED_RESOLUTION_MS = 60_000;

/** Who the admin is, for routes behind requireAdmin. */
export function adminNameOf(request: FastifyRequest): string {
  if (request.caller?.kind !== "admin") throw new Error("admin route registered without requireAdmin");
  return request.caller.name;
}

export function authHooks(deps: Pick<Deps, "config" | "prisma" | "clock">) {
  const adminKeys = [{ name: "admin", key: deps.config.ADMIN_API_KEY }, ...(deps.config.ADMIN_API_KEYS ?? [])];
  const requireAdmin: onRequestAsyncHookHandler = async (request, reply) => {
    const token = bearerToken(request);
    if (!token) return unauthorized(request, reply, "Send the admin key as Authorization: Bearer <key>");
    const admin = adminKeys.find(({ key }) => safeEqual(token, key));
    if (!admin) return unauthorized(request, reply, "The admin key is not valid");
    request.caller = { kind: "admin", name: admin.name };
  };

  const requireShop: onRequestAsyncHookHandler = async (request, reply) => {
    const token = bearerToken(request);
    if (!token) return unauthorized(request, reply, "Send your API key as Authorization: Bearer <key>");
    if (!API_KEY_PATTERN.test(token)) return unauthorized(request, reply, "The API key is not valid");
    // Looked up by the hash of a ~190-bit secret: nothing to learn from timing.
    const apiKey = await deps.prisma.apiKey.findUnique({
      where: { hash: sha256Hex(token) },
      select: { id: true, shopId: true, revokedAt: true, lastUsedAt: true, shop: { select: { status: true } } },
    });
    if (!apiKey || apiKey.revokedAt) return unauthorized(request, reply, "The API key is not valid or was revoked");
    if (apiKey.shop.status !== "active") {
      return sendProblem(request, reply, problem(403, "shop-suspended", "This shop is suspended; contact support"));
    }
    request.caller = { kind: "shop", shopId: apiKey.shopId, apiKeyId: apiKey.id };
    const now = deps.clock.now();
    if (!apiKey.lastUsedAt || now.getTime() - apiKey.lastUsedAt.getTime() > LAST_USED_RESOLUTION_MS) {
      deps.prisma.apiKey
        .update({ where: { id: apiKey.id }, data: { lastUsedAt: now } })
        .catch((error: unknown) => request.log.warn({ err: error }, "could not record API key use"));
    }
  };

  return { requireAdmin, requireShop };
}
