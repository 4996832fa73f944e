import { describe, expect, it } from "vitest";
import { createExpertService } from "../../src/modules/experts/service.js";
import { useTestContext } from "../helpers/context.js";
import { adminHeaders, makeExpert, makeShop, nextPhone, request } from "../helpers/factories.js";
import { invitesEnqueued } from "../helpers/invites.js";

const ctx = useTestContext();

const invitesOf = (expertId: string) => invitesEnqueued(ctx().deps.prisma, expertId);

describe("/v1/experts", () => {
  it("invites an expert: phone normalised, invited, vetting pending", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const response = await request(app, shop, {
      method: "POST",
      url: "/v1/experts",
      payload: {
        phone: "(415) 555-2671",
        phoneCountry: "US",
        name: "Dan Brewer",
        timeZone: "America/Chicago",
        skills: [
          { tag: "all-grain", level: 5 },
          { tag: "Mash", level: 3 },
        ],
        weeklyAvailability: [{ day: "sat", start: "09:00", end: "17:00" }],
        quietHours: { start: "22:00", end: "07:00" },
        maxConcurrentSessions: 2,
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({
      phone: "+14155552671",
      status: "invited",
      vettingStatus: "pending",
      paused: false,
      phoneVerifiedAt: null,
      skills: [
        { tag: "all-grain", level: 5 },
        { tag: "mash", level: 3 },
      ],
      weeklyAvailability: [{ day: "sat", start: "09:00", end: "17:00" }],
      quietHours: { start: "22:00", end: "07:00" },
      maxConcurrentSessions: 2,
      rating: { average: null, count: 0 },
    });
  });

  it("defaults to no schedule and no quiet hours", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const expert = await makeExpert(app, shop);
    const read = await request(app, shop, { method: "GET", url: `/v1/experts/${expert.id}` });
    expect(read.json()).toMatchObject({ weeklyAvailability: null, quietHours: null, maxConcurrentSessions: 1 });
  });

  it.each([
    [{ phone: "555-2671" }, "body.phone"],
    [{ timeZone: "Chicago" }, "body.timeZone"],
    [{ skills: [{ tag: "hops", level: 0 }] }, "body.skills.0.level"],
    [{ skills: [{ tag: "hops", level: 2 }, { tag: "hops", level: 3 }] }, "body.skills.1.tag"],
    [{ weeklyAvailability: [{ day: "mon", start: "18:00", end: "09:00" }] }, "body.weeklyAvailability.0.end"],
    [{ quietHours: { start: "25:00", end: "07:00" } }, "body.quietHours.start"],
    [{ maxConcurrentSessions: 0 }, "body.maxConcurrentSessions"],
  ])("refuses %o", async (change, path) => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const response = await request(app, shop, {
      method: "POST",
      url: "/v1/experts",
      payload: { phone: nextPhone(), name: "X", timeZone: "UTC", ...change },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors.map((error: { path: string }) => error.path)).toContain(path);
  });

  it("keeps phone numbers unique per shop", async () => {
    const { app } = ctx();
    const [shop, other] = [await makeShop(app), await makeShop(app)];
    const phone = nextPhone();
    await makeExpert(app, shop, { phone });
    await makeExpert(app, other, { phone }); // the same person may answer for two shops
    const duplicate = await request(app, shop, {
      method: "POST",
      url: "/v1/experts",
      payload: { phone: phone.replace("+1", "+1 "), name: "Twin", timeZone: "UTC" },
    });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json()).toMatchObject({ code: "phone-taken" });
  });

  it("a new phone number needs verifying again", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const expert = await makeExpert(app, shop);
    await createExpertService(deps).verifyPhone(expert.id);
    const before = await request(app, shop, { method: "GET", url: `/v1/experts/${expert.id}` });
    expect(before.json()).toMatchObject({ status: "active", phoneVerifiedAt: expect.any(String) });

    const same = await request(app, shop, { method: "PATCH", url: `/v1/experts/${expert.id}`, payload: { phone: expert.phone, name: "Daniel" } });
    expect(same.json()).toMatchObject({ status: "active", name: "Daniel" });
    expect(await invitesOf(expert.id)).toEqual([1]); // the same number is not invited again

    const changed = await request(app, shop, { method: "PATCH", url: `/v1/experts/${expert.id}`, payload: { phone: nextPhone() } });
    expect(changed.statusCode).toBe(200);
    expect(changed.json()).toMatchObject({ status: "invited", phoneVerifiedAt: null });
    // ...and the new number gets its own invite (sent by the worker, which this file does not run).
    expect(await invitesOf(expert.id)).toEqual([1, 2]);

    // Back to the first number: a new invitation, not mistaken for the first one.
    await request(app, shop, { method: "PATCH", url: `/v1/experts/${expert.id}`, payload: { phone: expert.phone } });
    expect(await invitesOf(expert.id)).toEqual([1, 2, 3]);
  });

  it("replaces skills and clears schedules with null", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const expert = await makeExpert(app, shop, {
      weeklyAvailability: [{ day: "mon", start: "09:00", end: "17:00" }],
      quietHours: { start: "22:00", end: "07:00" },
    });
    const response = await request(app, shop, {
      method: "PATCH",
      url: `/v1/experts/${expert.id}`,
      payload: { skills: [{ tag: "yeast", level: 2 }], weeklyAvailability: null, quietHours: null },
    });
    expect(response.json()).toMatchObject({ skills: [{ tag: "yeast", level: 2 }], weeklyAvailability: null, quietHours: null });
    const byTag = await request(app, shop, { method: "GET", url: "/v1/experts?tag=all-grain" });
    expect(byTag.json().data).toHaveLength(0);
  });

  it("suspends and reinstates through the state machine", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const expert = await makeExpert(app, shop);
    const base = `/v1/experts/${expert.id}`;
    expect((await request(app, shop, { method: "POST", url: `${base}/reinstate` })).json()).toMatchObject({ code: "not-suspended" });
    const suspended = await request(app, shop, { method: "POST", url: `${base}/suspend` });
    expect(suspended.json()).toMatchObject({ status: "suspended" });
    expect((await request(app, shop, { method: "POST", url: `${base}/suspend` })).statusCode).toBe(409);
    const filtered = await request(app, shop, { method: "GET", url: "/v1/experts?status=suspended" });
    expect(filtered.json().data.map((row: { id: string }) => row.id)).toEqual([expert.id]);
    // never verified, so reinstating puts them back to invited, not active
    expect((await request(app, shop, { method: "POST", url: `${base}/reinstate` })).json()).toMatchObject({ status: "invited" });
  });

  it("deletes an expert without history; refuses one with offers", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const fresh = await makeExpert(app, shop);
    expect((await request(app, shop, { method: "DELETE", url: `/v1/experts/${fresh.id}` })).statusCode).toBe(204);

    const veteran = await makeExpert(app, shop);
    const question = await deps.prisma.question.create({
      data: { shopId: shop.id, statusToken: `tok-${veteran.id}`, channel: "api", body: "?", customerPhone: nextPhone() },
    });
    await deps.prisma.offer.create({
      data: { questionId: question.id, expertId: veteran.id, code: "7KQ", expiresAt: new Date() },
    });
    const refused = await request(app, shop, { method: "DELETE", url: `/v1/experts/${veteran.id}` });
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({ code: "expert-has-history" });
  });
});

describe("POST /v1/admin/experts/:id/vetting", () => {
  it("approves once; a second decision is 409", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const expert = await makeExpert(app, shop);
    const url = `/v1/admin/experts/${expert.id}/vetting`;
    const approved = await app.inject({ method: "POST", url, headers: adminHeaders, payload: { decision: "approved", note: "Knows mash chemistry" } });
    expect(approved.statusCode).toBe(200);
    expect(approved.json()).toMatchObject({ vettingStatus: "approved", vettingNote: "Knows mash chemistry" });
    const again = await app.inject({ method: "POST", url, headers: adminHeaders, payload: { decision: "rejected" } });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: "vetting-decided" });
  });

  it("is admin-only, validates the decision, and 404s unknown experts", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const expert = await makeExpert(app, shop);
    const url = `/v1/admin/experts/${expert.id}/vetting`;
    expect((await app.inject({ method: "POST", url, headers: shop.headers, payload: { decision: "approved" } })).statusCode).toBe(401);
    expect((await app.inject({ method: "POST", url, headers: adminHeaders, payload: { decision: "maybe" } })).statusCode).toBe(400);
    const missing = await app.inject({
      method: "POST",
      url: "/v1/admin/experts/01900000-0000-7000-8000-000000000000/vetting",
      headers: adminHeaders,
      payload: { decision: "approved" },
    });
    expect(missing.statusCode).toBe(404);
  });

  it("two concurrent decisions: exactly one wins", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const expert = await makeExpert(app, shop);
    const url = `/v1/admin/experts/${expert.id}/vetting`;
    const results = await Promise.all(
      (["approved", "rejected", "approved", "rejected"] as const).map((decision) =>
        app.inject({ method: "POST", url, headers: adminHeaders, payload: { decision } }),
      ),
    );
    expect(results.map((result) => result.statusCode).sort()).toEqual([200, 409, 409, 409]);
  });
});

describe("GET /v1/admin/experts", () => {
  it("lists the vetting queue across shops, narrowable to one shop", async () => {
    const { app } = ctx();
    const [one, two] = [await makeShop(app), await makeShop(app)];
    const a = await makeExpert(app, one);
    const b = await makeExpert(app, two);
    const decided = await makeExpert(app, two);
    await app.inject({
      method: "POST",
      url: `/v1/admin/experts/${decided.id}/vetting`,
      headers: adminHeaders,
      payload: { decision: "rejected" },
    });
    const pending = await app.inject({ method: "GET", url: "/v1/admin/experts?vettingStatus=pending&limit=100", headers: adminHeaders });
    const ids = pending.json().data.map((expert: { id: string }) => expert.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(ids).not.toContain(decided.id);

    const narrowed = await app.inject({ method: "GET", url: `/v1/admin/experts?shopId=${one.id}`, headers: adminHeaders });
    expect(narrowed.json().data.map((expert: { shopId: string }) => expert.shopId)).toEqual([one.id]);
    expect((await app.inject({ method: "GET", url: "/v1/admin/experts", headers: one.headers })).statusCode).toBe(401);
  });
});
