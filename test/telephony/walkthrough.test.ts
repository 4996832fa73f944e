/**
 * The README walkthrough, automated: create a shop, add an expert, the invite
 * arrives on the simulated phone, reply YES, toggle OFF/ON, HELP, STOP.
 */
import { describe, expect, it } from "vitest";
import { adminHeaders } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";
import { postRefund, postSession } from "../payments/ledger-rows.js";

const ctx = useTelephonyContext();
const DAN = "+13125550199";

describe("expert onboarding by SMS", () => {
  it("walks through invite, YES, OFF, ON, STATUS, HELP, STOP and START", async () => {
    const { app, deps, sandbox, settle, text, inbox } = ctx();
    const created = await app.inject({ method: "POST", url: "/v1/admin/shops", headers: adminHeaders, payload: { name: "Brew Barn" } });
    const shopKey = created.json().apiKey.key as string;
    const shopHeaders = { authorization: `Bearer ${shopKey}` };

    const expert = await app.inject({
      method: "POST",
      url: "/v1/experts",
      headers: shopHeaders,
      payload: { phone: DAN, name: "Dan", timeZone: "America/Chicago", skills: [{ tag: "all-grain", level: 5 }] },
    });
    expect(expert.statusCode).toBe(201);
    await settle();

    // The shop got an expert line on first need, and the invite came from it.
    const line = await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: created.json().shop.id, purpose: "expert_line" } });
    expect(sandbox.state.numbers.has(line.e164)).toBe(true);
    const [invite] = inbox(DAN);
    expect(invite).toMatch(/^Hi Dan! Brew Barn invites you to answer customers' questions about all-grain/);
    expect(invite).toMatch(/paid/);
    expect(invite).toMatch(/Reply YES to join, STOP to opt out\.$/);

    await text(DAN, line.e164, "yes");
    expect(inbox(DAN).at(-1)).toMatch(/^You're in! Brew Barn/);
    const read = () => app.inject({ method: "GET", url: `/v1/experts/${expert.json().id}`, headers: shopHeaders }).then((r) => r.json());
    expect(await read()).toMatchObject({ status: "active", paused: false, phoneVerifiedAt: expect.any(String) });

    await text(DAN, line.e164, " OFF ");
    expect(inbox(DAN).at(-1)).toBe("Paused: no questions until you reply ON.");
    expect((await read()).paused).toBe(true);

    await text(DAN, line.e164, "on");
    expect(inbox(DAN).at(-1)).toMatch(/^You're available/);
    expect((await read()).paused).toBe(false);

    await text(DAN, line.e164, "STATUS");
    expect(inbox(DAN).at(-1)).toBe("Available (reply OFF to pause). Open offers: 0. Conversations: 0. Earned this week: $0.00.");

    // The figure is the ledger's: this week's earnings net of refunds, per currency; last week's and the shop's side do not count.
    const dan = { shopId: created.json().shop.id as string, expertId: expert.json().id as string, expertPhone: DAN };
    const now = new Date();
    const thisWeek = await postSession(deps.prisma, { ...dan, at: now, chargeMinor: 1500, feeMinor: 300 });
    await postRefund(deps.prisma, thisWeek, { at: now, amountMinor: 500, feePartMinor: 200 });
    await postSession(deps.prisma, { ...dan, at: now, chargeMinor: 400, feeMinor: 100, currency: "EUR" });
    await postSession(deps.prisma, { ...dan, at: new Date(now.getTime() - 8 * 24 * 3600_000), chargeMinor: 5000, feeMinor: 1000 });
    await text(DAN, line.e164, "STATUS");
    expect(inbox(DAN).at(-1)).toBe("Available (reply OFF to pause). Open offers: 0. Conversations: 0. Earned this week: $9.00 + €3.00.");

    await text(DAN, line.e164, "help");
    const help = inbox(DAN).at(-1) ?? "";
    for (const field of ["Brew Barn", "Msg frequency varies", "Msg&data rates may apply", "Reply STOP to opt out", deps.config.SUPPORT_CONTACT]) {
      expect(help).toContain(field);
    }

    await text(DAN, line.e164, "what's this?");
    expect(inbox(DAN).at(-1)).toBe("Reply ON or OFF to set availability, STATUS to check in, HELP for help.");

    const before = inbox(DAN).length;
    await text(DAN, line.e164, "STOP");
    // One confirmation (Twilio's), then silence: nothing we send reaches Dan.
    expect(inbox(DAN).slice(before)).toEqual([expect.stringMatching(/successfully been unsubscribed/)]);
    expect(await deps.prisma.optOut.count({ where: { phone: DAN, platformNumber: line.e164 } })).toBe(1);
    await text(DAN, line.e164, "status");
    await text(DAN, line.e164, "STOP");
    expect(inbox(DAN).length).toBe(before + 1);

    await text(DAN, line.e164, "START");
    expect(inbox(DAN).at(-1)).toMatch(/re-subscribed/);
    expect(await deps.prisma.optOut.count({ where: { phone: DAN } })).toBe(0);
    await text(DAN, line.e164, "status");
    expect(inbox(DAN).at(-1)).toMatch(/^Available/);

    expect(sandbox.state.contractViolations).toEqual([]);
  });
});
