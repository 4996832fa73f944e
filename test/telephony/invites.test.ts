/**
 * Every invitation goes out: each phone change and each return to
 * `invited` is a new invitation with its own job id and dedupe key, so a
 * number used before (A -> B -> A) or a reinstated expert is invited again,
 * while a replay of one invitation still sends once.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { expertInviteJob } from "../../src/modules/telephony/jobs.js";
import { adminHeaders, nextPhone } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();
let shopHeaders: { authorization: string };

const INVITE_TEXT = /^Hi \w+! Grist Mill invites you/;

async function api(method: "POST" | "PATCH", url: string, payload?: Record<string, unknown>) {
  const response = await ctx().app.inject({ method, url, headers: shopHeaders, ...(payload ? { payload } : {}) });
  expect(response.statusCode, response.body).toBeLessThan(300);
  return response.json<{ id: string; status: string }>();
}

/** The invite messages stored for the expert, oldest first: who each went to and how it ended. */
async function invitesOf(expertId: string) {
  const rows = await ctx().deps.prisma.message.findMany({
    where: { purpose: "invite", dedupeKey: { startsWith: `invite:${expertId}:` } },
    orderBy: { id: "asc" },
  });
  return rows.map((row) => ({ to: row.to, status: row.status }));
}

beforeAll(async () => {
  const shop = await ctx().app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Grist Mill" } });
  shopHeaders = { authorization: `Bearer ${shop.json().apiKey.key}` };
});

describe("expert invites", () => {
  it("a phone changed A -> B -> A sends three invites, and each phone receives its own", async () => {
    const { settle, inbox } = ctx();
    const [a, b] = [nextPhone(), nextPhone()];
    const expert = await api("POST", "/v1/experts", { phone: a, name: "Ada", timeZone: "UTC" });
    await settle();
    await api("PATCH", `/v1/experts/${expert.id}`, { phone: b });
    await settle();
    await api("PATCH", `/v1/experts/${expert.id}`, { phone: a });
    await settle();

    expect(await invitesOf(expert.id)).toEqual([
      { to: a, status: "delivered" },
      { to: b, status: "delivered" },
      { to: a, status: "delivered" },
    ]);
    expect(inbox(a)).toEqual([expect.stringMatching(INVITE_TEXT), expect.stringMatching(INVITE_TEXT)]);
    expect(inbox(b)).toEqual([expect.stringMatching(INVITE_TEXT)]);
  });

  it("a reinstated expert who goes back to invited gets a new invite", async () => {
    const { settle, inbox } = ctx();
    const phone = nextPhone();
    const expert = await api("POST", "/v1/experts", { phone, name: "Bo", timeZone: "UTC" });
    await settle();
    await api("POST", `/v1/experts/${expert.id}/suspend`);
    const reinstated = await api("POST", `/v1/experts/${expert.id}/reinstate`);
    expect(reinstated.status).toBe("invited");
    await settle();
    expect(await invitesOf(expert.id)).toEqual([
      { to: phone, status: "delivered" },
      { to: phone, status: "delivered" },
    ]);
    expect(inbox(phone)).toHaveLength(2);
  });

  it("a phone changed while suspended is invited on reinstatement, not before", async () => {
    const { settle, inbox } = ctx();
    const [old, fresh] = [nextPhone(), nextPhone()];
    const expert = await api("POST", "/v1/experts", { phone: old, name: "Cy", timeZone: "UTC" });
    await settle();
    await api("POST", `/v1/experts/${expert.id}/suspend`);
    await api("PATCH", `/v1/experts/${expert.id}`, { phone: fresh });
    await settle();
    expect(inbox(fresh)).toEqual([]);
    await api("POST", `/v1/experts/${expert.id}/reinstate`);
    await settle();
    expect(await invitesOf(expert.id)).toEqual([
      { to: old, status: "delivered" },
      { to: fresh, status: "delivered" },
    ]);
    expect(inbox(fresh)).toEqual([expect.stringMatching(INVITE_TEXT)]);
  });

  it("reinstating an expert who had joined invites nobody", async () => {
    const { settle, text, inbox, deps } = ctx();
    const phone = nextPhone();
    const expert = await api("POST", "/v1/experts", { phone, name: "Di", timeZone: "UTC" });
    await settle();
    const line = (await deps.prisma.message.findFirstOrThrow({ where: { to: phone, purpose: "invite" } })).from;
    await text(phone, line, "YES");
    await api("POST", `/v1/experts/${expert.id}/suspend`);
    expect((await api("POST", `/v1/experts/${expert.id}/reinstate`)).status).toBe("active");
    await settle();
    expect(await invitesOf(expert.id)).toHaveLength(1);
    expect(inbox(phone).filter((body) => INVITE_TEXT.test(body))).toHaveLength(1);
  });

  it("a late run of an earlier invitation's job sends nothing, and a replayed one sends once", async () => {
    const { settle, inbox, deps } = ctx();
    const [first, second] = [nextPhone(), nextPhone()];
    const expert = await api("POST", "/v1/experts", { phone: first, name: "Ed", timeZone: "UTC" });
    await settle();
    await api("PATCH", `/v1/experts/${expert.id}`, { phone: second });
    await settle();
    const invites = expertInviteJob(deps);
    const context = { jobId: "test", attempt: 1, delayUntil: () => Promise.reject(new Error("no delay expected")), rateLimited: () => Promise.reject(new Error("no rate limit expected")) };
    await invites.handle({ expertId: expert.id, invite: 1 }, context);
    await invites.handle({ expertId: expert.id, invite: 2 }, context);
    await settle();
    expect(await invitesOf(expert.id)).toEqual([
      { to: first, status: "delivered" },
      { to: second, status: "delivered" },
    ]);
    expect(inbox(first)).toHaveLength(1);
    expect(inbox(second)).toHaveLength(1);
  });
});
