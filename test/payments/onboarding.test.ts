/**
 * Stripe Connect onboarding by SMS, through both sandboxes: an expert who
 * becomes active and approved is texted our own /e/onboard link; the link
 * creates one Express account and sends the browser to a fresh Stripe link;
 * the return page tells what the account says; account.updated turns
 * payouts on; waiting earnings are announced at most once a week. Each link
 * works for a week (a newer text does not end it), then says it expired and
 * asks for a fresh text; a suspended or invited expert's link is not found.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../../src/lib/tokens.js";
import { QUEUES } from "../../src/jobs/define.js";
import { enqueue } from "../../src/modules/outbox/outbox.js";
import { EXPERT_ONBOARDING_LINK, ONBOARDING_LINK_TTL_DAYS, remindExpertsWithWaitingEarnings } from "../../src/modules/payments/onboarding.js";
import { adminHeaders, makeExpert, makeShop, nextPhone, type TestShop } from "../helpers/factories.js";
import { useTelephonyContext } from "../helpers/telephony.js";

const ctx = useTelephonyContext();

const LINK = /http:\/\/expertline\.test\/e\/onboard\/([0-9A-Za-z]{32})$/;
let shop: TestShop;
let line: string;

beforeAll(async () => {
  shop = await makeShop(ctx().app, "Grist Mill");
});

/** An expert who joined by SMS (YES) and whom the admin approved; returns their id and phone. */
async function joinedAndApproved(order: "join-first" | "approve-first" = "join-first") {
  const { app, deps, settle } = ctx();
  const expert = await makeExpert(app, shop, { name: "Dan Brewer" });
  await settle();
  line ??= (await deps.prisma.phoneNumber.findFirstOrThrow({ where: { shopId: shop.id, purpose: "expert_line" } })).e164;
  const approve = async () => {
    const response = await app.inject({ method: "POST", url: `/v1/admin/experts/${expert.id}/vetting`, headers: adminHeaders, payload: { decision: "approved" } });
    expect(response.statusCode, response.body).toBe(200);
    await settle();
  };
  if (order === "approve-first") await approve();
  await ctx().text(expert.phone, line, "YES");
  if (order === "join-first") await approve();
  return expert;
}

function onboardingTexts(phone: string): string[] {
  return ctx()
    .inbox(phone)
    .filter((body) => body.includes("/e/onboard/"));
}

function tokenOf(text: string | undefined): string {
  const token = text ? LINK.exec(text)?.[1] : undefined;
  if (!token) throw new Error(`no onboarding link in ${text}`);
  return token;
}

async function open(path: string) {
  return ctx().app.inject({ method: "GET", url: path });
}

describe("the onboarding text", () => {
  it("goes out once the expert is active and approved (joined, then approved), from the expert line, with our link", async () => {
    const expert = await joinedAndApproved("join-first");
    const texts = onboardingTexts(expert.phone);
    expect(texts).toEqual([expect.stringMatching(/^Hi Dan! To get paid for your Grist Mill answers, set up payouts with Stripe \(takes ~5 min\): http/)]);
    const token = tokenOf(texts[0]);
    const row = await ctx().deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });
    expect(row.onboardingLinkSentAt).not.toBeNull();
    // Only the token's sha256 is stored, as a link that works for a week.
    const links = await ctx().deps.prisma.onboardingLink.findMany({ where: { expertId: expert.id } });
    expect(links).toEqual([expect.objectContaining({ tokenHash: sha256Hex(token) })]);
    expect(ONBOARDING_LINK_TTL_DAYS).toBe(7);
    expect(links[0]!.expiresAt.getTime() - links[0]!.createdAt.getTime()).toBe(7 * 24 * 3600 * 1000);
    expect(links[0]!.createdAt.getTime()).toBe(row.onboardingLinkSentAt?.getTime());
    const message = await ctx().deps.prisma.message.findFirstOrThrow({ where: { purpose: "payout_onboarding", to: expert.phone } });
    expect(message).toMatchObject({ from: line, status: "delivered" });
    expect(message.body).not.toContain("stripe.com");
    // Once Twilio has it, the token does not rest in our database: the phone has the text.
    expect(message.body).not.toContain(token);
    expect(message.body).toContain("/e/onboard/[sent]");
  });

  it("goes out also when the approval comes first, and a repeated YES sends no second one", async () => {
    const expert = await joinedAndApproved("approve-first");
    expect(onboardingTexts(expert.phone)).toHaveLength(1);
    await ctx().text(expert.phone, line, "YES");
    expect(onboardingTexts(expert.phone)).toHaveLength(1);
  });

  it("is not sent to an expert who joined but is not approved", async () => {
    const { app, settle } = ctx();
    const expert = await makeExpert(app, shop, { name: "Eve" });
    await settle();
    await ctx().text(expert.phone, line, "YES");
    expect(onboardingTexts(expert.phone)).toEqual([]);
  });
});

describe("GET /e/onboard/:token", () => {
  it("creates one Express account (controller properties) and redirects 303 to a fresh Stripe link; a second visit makes a new link, not a new account", async () => {
    const { deps, stripe } = ctx();
    const expert = await joinedAndApproved();
    const token = tokenOf(onboardingTexts(expert.phone)[0]);

    const first = await open(`/e/onboard/${token}`);
    expect(first.statusCode, first.body).toBe(303);
    expect(first.headers.location).toMatch(/\/sandbox\/stripe\/onboard\/\w+$/);
    expect(first.headers["cache-control"]).toBe("no-store");

    const row = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });
    expect(row.stripeAccountId).toMatch(/^acct_/);
    const account = stripe.state.accounts.get(row.stripeAccountId ?? "");
    expect(account).toMatchObject({ dashboard: "express", feesPayer: "application", lossesPayments: "application", requirementCollection: "stripe", transfersRequested: true, metadata: { expertId: expert.id } });

    const again = await open(`/e/onboard/${token}`);
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).not.toBe(first.headers.location);
    const mine = [...stripe.state.accounts.values()].filter((each) => each.metadata.expertId === expert.id);
    expect(mine).toHaveLength(1);
    const links = [...stripe.state.accountLinks.values()].filter((link) => link.account === row.stripeAccountId);
    expect(links.map((link) => link.type)).toEqual(["account_onboarding", "account_onboarding"]);
    expect(links[0]).toMatchObject({ refreshUrl: `http://expertline.test/e/onboard/${token}`, returnUrl: `http://expertline.test/e/onboard/${token}/return` });
  });

  it("two concurrent clicks end with one account (the second waits out the first's idempotency key)", async () => {
    const { deps, stripe } = ctx();
    const expert = await joinedAndApproved();
    const token = tokenOf(onboardingTexts(expert.phone)[0]);
    const before = stripe.state.requests.length;
    const hold = stripe.state.holdNext("/v1/accounts");
    const clicks = Promise.all([open(`/e/onboard/${token}`), open(`/e/onboard/${token}`)]);
    await hold.reached;
    // The second create reaches Stripe while the first holds the key: 409, retried.
    while (stripe.state.requests.slice(before).filter((request) => request.path === "/v1/accounts").length < 2) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    hold.release();
    const [a, b] = await clicks;
    expect([a.statusCode, b.statusCode]).toEqual([303, 303]);
    const mine = [...stripe.state.accounts.values()].filter((each) => each.metadata.expertId === expert.id);
    expect(mine).toHaveLength(1);
    const row = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });
    expect(row.stripeAccountId).toBe(mine[0]?.id);
    const creates = stripe.state.requests.slice(before).filter((request) => request.path === "/v1/accounts");
    expect(new Set(creates.map((request) => request.idempotencyKey))).toEqual(new Set([`expert-account-${expert.id}`]));
  });

  it("a spent Stripe link sends the browser back to our URL, which makes a new one", async () => {
    const { stripe, stripeUrl } = ctx();
    const expert = await joinedAndApproved();
    const token = tokenOf(onboardingTexts(expert.phone)[0]);
    const first = await open(`/e/onboard/${token}`);
    const linkPath = new URL(String(first.headers.location)).pathname;
    // A link preview (or the expert) spends it...
    expect((await stripe.app.inject({ method: "GET", url: linkPath })).statusCode).toBe(200);
    // ...and the next visit goes to the refresh URL: ours.
    const spent = await stripe.app.inject({ method: "GET", url: linkPath });
    expect(spent.statusCode).toBe(302);
    expect(spent.headers.location).toBe(`http://expertline.test/e/onboard/${token}`);
    const refreshed = await open(`/e/onboard/${token}`);
    expect(refreshed.statusCode).toBe(303);
    expect(refreshed.headers.location).not.toBe(first.headers.location);
    expect(stripeUrl).toMatch(/^http:\/\/127\.0\.0\.1:/);
  });

  it("a link opened more than 10 times in a minute (a looping preview) stops asking Stripe for links", async () => {
    const { stripe } = ctx();
    const expert = await joinedAndApproved();
    const token = tokenOf(onboardingTexts(expert.phone)[0]);
    const before = stripe.state.requests.length;
    const answers = [];
    for (let visit = 0; visit < 12; visit++) answers.push((await open(`/e/onboard/${token}`)).statusCode);
    expect(answers).toEqual([...Array<number>(10).fill(303), 429, 429]);
    expect(stripe.state.requests.slice(before).filter((request) => request.path === "/v1/account_links")).toHaveLength(10);
    const limited = await open(`/e/onboard/${token}`);
    expect(limited.headers["retry-after"]).toBe("60");
    expect(limited.body).toContain("opened many times");
  });

  it("an unknown or malformed token is one small 404 page", async () => {
    for (const path of ["/e/onboard/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/e/onboard/nope", `/e/onboard/${"A".repeat(90)}`, "/e/onboard/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/return"]) {
      const response = await open(path);
      expect(response.statusCode).toBe(404);
      expect(response.headers["content-type"]).toMatch(/^text\/html/);
      expect(response.body).toContain("We can't find this link");
    }
  });
});

describe("finishing onboarding", () => {
  it("the return page says 'not yet' until the account says otherwise; account.updated turns payouts on; then the link says all set", async () => {
    const { deps, stripe, settle } = ctx();
    const expert = await joinedAndApproved();
    const token = tokenOf(onboardingTexts(expert.phone)[0]);

    // Back from Stripe without finishing ("save for later" also lands here): nothing is assumed.
    const early = await open(`/e/onboard/${token}/return`);
    expect(early.statusCode).toBe(200);
    expect(early.body).toContain("Payouts are not on yet");
    expect(early.body).toContain("Your payout set-up isn&#39;t finished yet.");
    expect(early.body).toContain(`href="/e/onboard/${token}"`);

    await open(`/e/onboard/${token}`);
    const notYet = await open(`/e/onboard/${token}/return`);
    expect(notYet.body).toContain("Payouts are not on yet");
    expect(notYet.body).toMatch(/Stripe still needs \d+ more details/);
    let row = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });
    expect(row).toMatchObject({ payoutsEnabled: false, stripeDetailsSubmitted: false, stripeDisabledReason: "requirements.past_due" });
    expect(row.stripeRequirementsDue.length).toBeGreaterThan(0);
    expect(row.stripeAccountSyncedAt).not.toBeNull();

    stripe.state.completeOnboarding(row.stripeAccountId ?? "");
    await settle();
    row = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });
    expect(row).toMatchObject({ payoutsEnabled: true, stripeDetailsSubmitted: true, stripeDisabledReason: null, stripeRequirementsDue: [] });
    const delivered = stripe.state.eventLog.deliveries.filter((delivery) => delivery.event.type === "account.updated" && delivery.event.account === row.stripeAccountId);
    expect(delivered.map((delivery) => delivery.attempts.map((attempt) => attempt.status))).toEqual([[200]]);

    const done = await open(`/e/onboard/${token}/return`);
    expect(done.body).toContain("You're all set");
    const link = await open(`/e/onboard/${token}`);
    expect(link.statusCode).toBe(200);
    expect(link.body).toContain("Payouts are on");
  });

  it("every request sent to Stripe matched its official spec", () => {
    expect(ctx().stripe.state.contractViolations).toEqual([]);
    const accountLinkCalls = ctx().stripe.state.requests.filter((request) => request.path === "/v1/account_links");
    expect(accountLinkCalls.length).toBeGreaterThan(0);
  });
});

describe("the weekly reminder of waiting earnings", () => {
  async function earn(expertId: string, amountMinor: number, kind: "session_earning" | "earning_reversal" = "session_earning") {
    await ctx().deps.prisma.ledgerEntry.create({
      data: { shopId: shop.id, expertId, kind, amountMinor, currency: "USD", idempotencyKey: `test:${expertId}:${kind}:${Math.random()}` },
    });
  }

  it("texts an expert whose payouts are off at most once a week, with a fresh link (the earlier one still works)", async () => {
    const { deps, settle, inbox } = ctx();
    const expert = await joinedAndApproved();
    const firstToken = tokenOf(onboardingTexts(expert.phone)[0]);
    await earn(expert.id, 1500);
    await earn(expert.id, -300, "earning_reversal");
    // Nothing owed: nothing said.
    const nothingOwed = await joinedAndApproved();
    await earn(nothingOwed.id, 500);
    await earn(nothingOwed.id, -500, "earning_reversal");

    expect(await remindExpertsWithWaitingEarnings(deps)).toBe(1);
    await settle();
    const reminder = inbox(expert.phone).at(-1);
    expect(reminder).toMatch(/^You have \$12\.00 waiting\. Finish your payout set-up to get it: http:\/\/expertline\.test\/e\/onboard\/\w{32}$/);
    const secondToken = tokenOf(reminder);
    expect(secondToken).not.toBe(firstToken);
    // A newer text does not end an older link: both work until their own expiry.
    expect((await open(`/e/onboard/${firstToken}`)).statusCode).toBe(303);
    expect((await open(`/e/onboard/${secondToken}`)).statusCode).toBe(303);
    expect(inbox(nothingOwed.phone).filter((body) => body.startsWith("You have"))).toEqual([]);

    // The same week: nothing more.
    expect(await remindExpertsWithWaitingEarnings(deps)).toBe(0);
    // A week later: again.
    await deps.prisma.expert.update({ where: { id: expert.id }, data: { payoutReminderSentAt: new Date(Date.now() - 7 * 24 * 3600 * 1000 - 1000) } });
    expect(await remindExpertsWithWaitingEarnings(deps)).toBe(1);
    await settle();
    expect(inbox(expert.phone).filter((body) => body.startsWith("You have"))).toHaveLength(2);

    // Payouts on: no more reminders.
    await deps.prisma.expert.update({ where: { id: expert.id }, data: { payoutsEnabled: true, payoutReminderSentAt: null } });
    expect(await remindExpertsWithWaitingEarnings(deps)).toBe(0);
  });
});

describe("a link's lifetime", () => {
  async function earn(expertId: string, amountMinor: number) {
    await ctx().deps.prisma.ledgerEntry.create({
      data: { shopId: shop.id, expertId, kind: "session_earning", amountMinor, currency: "USD", idempotencyKey: `test:${expertId}:life:${Math.random()}` },
    });
  }

  /** The link's week is over (its row says so; nothing else changes). */
  async function expire(token: string) {
    await ctx().deps.prisma.onboardingLink.update({ where: { tokenHash: sha256Hex(token) }, data: { expiresAt: new Date(Date.now() - 1000) } });
  }

  async function stripeCalls(path: string): Promise<number> {
    return ctx().stripe.state.requests.filter((request) => request.path === path).length;
  }

  it("link A texted, the reminder texts link B: A's refresh and return URLs still work", async () => {
    const { deps, stripe, settle, inbox } = ctx();
    const expert = await joinedAndApproved();
    const a = tokenOf(onboardingTexts(expert.phone)[0]);
    // The expert starts onboarding with link A...
    const started = await open(`/e/onboard/${a}`);
    expect(started.statusCode).toBe(303);
    const stripeLink = new URL(String(started.headers.location)).pathname;
    // ...and meanwhile the weekly reminder texts link B.
    await earn(expert.id, 1000);
    await remindExpertsWithWaitingEarnings(deps);
    await settle();
    const reminder = inbox(expert.phone).at(-1);
    expect(reminder).toMatch(/^You have \$10\.00 waiting/);
    const b = tokenOf(reminder);
    expect(b).not.toBe(a);

    // Stripe's link is spent: Stripe sends the browser to A's refresh URL, which makes a new Stripe link.
    expect((await stripe.app.inject({ method: "GET", url: stripeLink })).statusCode).toBe(200);
    const spent = await stripe.app.inject({ method: "GET", url: stripeLink });
    expect(spent.headers.location).toBe(`http://expertline.test/e/onboard/${a}`);
    const refreshed = await open(`/e/onboard/${a}`);
    expect(refreshed.statusCode).toBe(303);
    expect(refreshed.headers.location).not.toBe(started.headers.location);
    // A's return URL tells how things are.
    const back = await open(`/e/onboard/${a}/return`);
    expect(back.statusCode).toBe(200);
    expect(back.body).toContain("Payouts are not on yet");
    // B works too, on the same account.
    expect((await open(`/e/onboard/${b}`)).statusCode).toBe(303);
    const row = await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } });
    const refreshUrls = [...stripe.state.accountLinks.values()].filter((link) => link.account === row.stripeAccountId).map((link) => link.refreshUrl);
    expect(refreshUrls).toEqual([a, a, b].map((token) => `http://expertline.test/e/onboard/${token}`));
  });

  it("an expired link says so and creates nothing; it queues one fresh text, never two within the hour", async () => {
    const { deps, settle } = ctx();
    const expert = await joinedAndApproved();
    const a = tokenOf(onboardingTexts(expert.phone)[0]);
    await expire(a);
    const [accounts, accountLinks] = [await stripeCalls("/v1/accounts"), await stripeCalls("/v1/account_links")];

    // The first text went out minutes ago: the page says the link expired, and no second text is sent yet.
    for (const path of [`/e/onboard/${a}`, `/e/onboard/${a}/return`]) {
      const response = await open(path);
      expect(response.statusCode, path).toBe(410);
      expect(response.headers["content-type"]).toMatch(/^text\/html/);
      expect(response.headers["cache-control"]).toBe("no-store");
      expect(response.body).toContain("This link has expired");
      expect(response.body).toContain("We'll text you a new one");
    }
    await settle();
    expect(onboardingTexts(expert.phone)).toHaveLength(1);

    // The last text is more than an hour old: opening the old link (however often) texts one fresh link.
    await deps.prisma.expert.update({ where: { id: expert.id }, data: { onboardingLinkSentAt: new Date(Date.now() - 61 * 60 * 1000) } });
    const opened = await Promise.all([open(`/e/onboard/${a}`), open(`/e/onboard/${a}`), open(`/e/onboard/${a}/return`)]);
    expect(opened.map((response) => response.statusCode)).toEqual([410, 410, 410]);
    await settle();
    let texts = onboardingTexts(expert.phone);
    expect(texts).toHaveLength(2);
    expect(texts[1]).toMatch(/^Hi Dan! To get paid for your Grist Mill answers/);
    const fresh = tokenOf(texts[1]);
    expect(fresh).not.toBe(a);
    expect(await deps.prisma.onboardingLink.count({ where: { expertId: expert.id } })).toBe(2);

    // Nothing was asked of Stripe for the expired link.
    expect([await stripeCalls("/v1/accounts"), await stripeCalls("/v1/account_links")]).toEqual([accounts, accountLinks]);
    expect((await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } })).stripeAccountId).toBeNull();

    // Opened again right away: the page, and no third text. Even a job that slips through checks the hour again.
    expect((await open(`/e/onboard/${a}`)).statusCode).toBe(410);
    await deps.prisma.$transaction((tx) =>
      enqueue(tx, {
        queue: QUEUES.payments,
        name: EXPERT_ONBOARDING_LINK,
        payload: { expertId: expert.id, at: new Date().toISOString(), reason: "expired" },
        jobId: `test-onboard-link-expired-${expert.id}`,
      }),
    );
    await settle();
    texts = onboardingTexts(expert.phone);
    expect(texts).toHaveLength(2);

    // The fresh link works.
    expect((await open(`/e/onboard/${fresh}`)).statusCode).toBe(303);
  });

  it("an expired link of an expert whose payouts are on says all set, and texts nothing", async () => {
    const { deps, settle } = ctx();
    const expert = await joinedAndApproved();
    const a = tokenOf(onboardingTexts(expert.phone)[0]);
    await expire(a);
    await deps.prisma.expert.update({ where: { id: expert.id }, data: { payoutsEnabled: true, onboardingLinkSentAt: new Date(Date.now() - 2 * 3600 * 1000) } });
    const response = await open(`/e/onboard/${a}`);
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain("You're all set");
    await settle();
    expect(onboardingTexts(expert.phone)).toHaveLength(1);
  });

  it("a suspended expert's links are not found (expired or not), nothing is texted, and the reminder skips them", async () => {
    const { app, deps, settle, inbox } = ctx();
    const expert = await joinedAndApproved();
    const a = tokenOf(onboardingTexts(expert.phone)[0]);
    const suspended = await app.inject({ method: "POST", url: `/v1/experts/${expert.id}/suspend`, headers: shop.headers });
    expect(suspended.statusCode, suspended.body).toBe(200);
    await settle();

    for (const path of [`/e/onboard/${a}`, `/e/onboard/${a}/return`]) {
      const response = await open(path);
      expect(response.statusCode, path).toBe(404);
      expect(response.body).toContain("We can't find this link");
    }
    await expire(a);
    await deps.prisma.expert.update({ where: { id: expert.id }, data: { onboardingLinkSentAt: new Date(Date.now() - 2 * 3600 * 1000) } });
    expect((await open(`/e/onboard/${a}`)).statusCode).toBe(404);

    await earn(expert.id, 2500);
    await remindExpertsWithWaitingEarnings(deps);
    await settle();
    expect(inbox(expert.phone).filter((body) => body.includes("waiting"))).toEqual([]);
    expect(onboardingTexts(expert.phone)).toHaveLength(1);
    expect((await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } })).stripeAccountId).toBeNull();
  });

  it("an invited expert's link (their number changed) is not found, and the reminder skips them", async () => {
    const { app, deps, settle } = ctx();
    const expert = await joinedAndApproved();
    const a = tokenOf(onboardingTexts(expert.phone)[0]);
    expect((await open(`/e/onboard/${a}`)).statusCode).toBe(303);
    const newPhone = nextPhone();
    const changed = await app.inject({ method: "PATCH", url: `/v1/experts/${expert.id}`, headers: shop.headers, payload: { phone: newPhone } });
    expect(changed.statusCode, changed.body).toBe(200);
    await settle();
    expect((await deps.prisma.expert.findUniqueOrThrow({ where: { id: expert.id } })).status).toBe("invited");

    expect((await open(`/e/onboard/${a}`)).statusCode).toBe(404);
    expect((await open(`/e/onboard/${a}/return`)).statusCode).toBe(404);
    await earn(expert.id, 700);
    await remindExpertsWithWaitingEarnings(deps);
    await settle();
    for (const phone of [expert.phone, newPhone]) expect(ctx().inbox(phone).filter((body) => body.includes("waiting"))).toEqual([]);
  });
});
