/**
 * GET /q/:token, the customer's virtual ticket, on the real app and database:
 * JSON, HTML and the framable embed; the security headers; one 404 for every
 * token that does not lead anywhere; and no phone number in any answer, for a
 * question in any status.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it, vi } from "vitest";
import type { QuestionStatus } from "../../src/generated/prisma/enums.js";
import type { Prisma } from "../../src/generated/prisma/client.js";
import { redactUrl } from "../../src/lib/logger.js";
import { SCRIPT_HASH, STYLE_HASH } from "../../src/modules/questions/status-page.js";
import { useTestContext } from "../helpers/context.js";
import { makeProduct, makeShop, nextPhone, type TestShop } from "../helpers/factories.js";

const ASKED = new Date("2026-12-02T10:00:00.000Z");
const NOW = new Date("2026-12-02T10:12:00.000Z");
const ctx = useTestContext({ clock: { now: () => NOW } });

const at = (minutes: number) => new Date(ASKED.getTime() + minutes * 60_000);
const newToken = () => randomBytes(18).toString("base64url");

/** Anything that looks like a phone number, E.164 or national, as the brief for this page defines it. */
const PHONE_LIKE = /\+?\d[\d\s().-]{7,}\d/;
/** ISO 8601 timestamps are the one digit run the JSON may hold (dates, not phones); the scan drops exactly those. */
const ISO_TIMESTAMP = /"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"/g;

interface EventSpec {
  kind: string;
  minutes: number;
  data?: Prisma.InputJsonObject;
}

interface QuestionSpec {
  status: QuestionStatus;
  events?: EventSpec[];
  productId?: string | null;
  preferredMode?: "sms" | "voice";
  closedAt?: Date | null;
  customerPhone?: string;
}

async function makeQuestion(shop: TestShop, spec: QuestionSpec): Promise<{ token: string; id: string }> {
  const token = newToken();
  const question = await ctx().deps.prisma.question.create({
    data: {
      shopId: shop.id,
      productId: spec.productId ?? null,
      status: spec.status,
      statusToken: token,
      channel: "sms",
      preferredMode: spec.preferredMode ?? "sms",
      tags: ["all-grain"],
      body: `My mash is stuck, call me at ${spec.customerPhone ?? nextPhone()}`,
      customerPhone: spec.customerPhone ?? nextPhone(),
      customerName: "Pat",
      closedAt: spec.closedAt ?? null,
      createdAt: ASKED,
      events: {
        create: (spec.events ?? []).map((event) => ({
          kind: event.kind,
          createdAt: at(event.minutes),
          ...(event.data ? { data: event.data } : {}),
        })),
      },
    },
  });
  return { token, id: question.id };
}

const get = (url: string, accept?: string) => ctx().app.inject({ method: "GET", url, headers: accept ? { accept } : {} });
const getJson = (url: string) => get(url, "application/json");

const cspOf = (headers: Record<string, unknown>) => String(headers["content-security-policy"]);
const frameAncestorsOf = (headers: Record<string, unknown>) => /frame-ancestors ([^;]*)$/.exec(cspOf(headers))?.[1];

/** The lifecycle as the routing and session code writes it; data carries the fields they promise (and a few they must not). */
function lifecycle(expertPhone: string): Record<QuestionStatus, EventSpec[]> {
  const received: EventSpec[] = [{ kind: "received", minutes: 0, data: { customerPhone: expertPhone } }];
  const searching: EventSpec[] = [
    ...received,
    { kind: "searching", minutes: 0.5, data: { estimateMinutes: 15 } },
    { kind: "offered", minutes: 0.6, data: { expertPhone, expertFirstName: "Dan" } },
  ];
  const accepted: EventSpec[] = [...searching, { kind: "accepted", minutes: 3, data: { expertFirstName: "Dan", expertPhone } }];
  const talking: EventSpec[] = [...accepted, { kind: "session_started", minutes: 4, data: { expertFirstName: "Dan", phone: expertPhone } }];
  const ended: EventSpec[] = [...talking, { kind: "session_ended", minutes: 9, data: { expertFirstName: "Dan", endedBy: "customer" } }];
  return {
    received,
    routing: searching,
    offered: searching,
    matched: accepted,
    in_session: talking,
    answered: [...ended, { kind: "rated", minutes: 10, data: { expertFirstName: "Dan", score: 5 } }],
    expired: [...searching, { kind: "no_expert_yet", minutes: 6, data: { estimateMinutes: 30 } }, { kind: "expired", minutes: 11 }],
    cancelled: [...received, { kind: "cancelled", minutes: 2 }],
  };
}

const HEADLINES: Record<QuestionStatus, string> = {
  received: "We've got your question",
  routing: "Looking for a Grainfather G30 expert",
  offered: "Looking for a Grainfather G30 expert",
  matched: "Dan accepted and will text you",
  in_session: "In conversation with Dan",
  answered: "Answered",
  expired: "No expert was free in time",
  cancelled: "Question cancelled",
};

describe("GET /q/:token", () => {
  it("answers JSON with Accept: application/json: the timeline with ISO dates, elapsed time and what happens next", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const product = await makeProduct(app, shop, { name: "Grainfather G30" });
    const { token } = await makeQuestion(shop, { status: "matched", productId: product.id, events: lifecycle(nextPhone()).matched });

    const response = await getJson(`/q/${token}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(response.json()).toEqual({
      status: "matched",
      open: true,
      headline: "Dan accepted and will text you",
      productName: "Grainfather G30",
      shopName: expect.stringMatching(/^Shop [0-9a-f]{8}$/),
      steps: [
        { key: "received", label: "Received", at: "2026-12-02T10:00:00.000Z", state: "done" },
        { key: "searching", label: "Looking for an expert", at: "2026-12-02T10:00:30.000Z", state: "done" },
        { key: "accepted", label: "Dan accepted", at: "2026-12-02T10:03:00.000Z", state: "current" },
        { key: "in_conversation", label: "In conversation", at: null, state: "upcoming" },
        { key: "answered", label: "Answered", at: null, state: "upcoming" },
      ],
      elapsed: { seconds: 720, text: "12 min" },
      next: "Reply to Dan's texts on your phone.",
      expert: { firstName: "Dan" },
      closed: null,
      askedAt: "2026-12-02T10:00:00.000Z",
      asOf: "2026-12-02T10:12:00.000Z",
    });
  });

  it.each(Object.keys(HEADLINES) as QuestionStatus[])("%s: JSON, page and embed say where the question is", async (status) => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const product = await makeProduct(app, shop, { name: "Grainfather G30" });
    const closed = ["answered", "expired", "cancelled"].includes(status);
    const { token } = await makeQuestion(shop, {
      status,
      productId: product.id,
      events: lifecycle(nextPhone())[status],
      closedAt: closed ? at(11) : null,
    });

    const json = (await getJson(`/q/${token}`)).json();
    expect(json.status).toBe(status);
    expect(json.headline).toBe(HEADLINES[status]);
    expect(json.open).toBe(!closed);
    expect(json.elapsed.seconds).toBe(closed ? 660 : 720);
    for (const url of [`/q/${token}`, `/q/${token}?embed=1`]) {
      const page = await get(url);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(`id="headline">${HEADLINES[status].replace("'", "&#39;")}</`);
      expect(page.body).toContain(`data-status="${status}"`);
      // Only an open question's page refreshes itself.
      expect(page.body.includes("<script>")).toBe(!closed);
    }
  });

  it("serves the full page as HTML to browsers, framable by nobody", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    await deps.prisma.shop.update({ where: { id: shop.id }, data: { frameAncestors: ["https://brewbarn.example"] } });
    const { token } = await makeQuestion(shop, { status: "routing", events: lifecycle(nextPhone()).routing });

    for (const accept of [undefined, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "*/*"]) {
      const response = await get(`/q/${token}`, accept);
      expect(response.statusCode).toBe(200);
      expect(response.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(response.body).toContain('<h1 id="headline">Looking for an expert</h1>');
      expect(response.body).toContain("We&#39;re texting experts now; most questions are picked up within 15 minutes.");
      expect(response.body).toContain('<p class="muted">Asked <span id="elapsed">12 min</span> ago</p>');
      expect(response.headers).toMatchObject({
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        vary: "Accept",
      });
      expect(cspOf(response.headers)).toBe(
        `default-src 'none'; style-src ${STYLE_HASH}; script-src ${SCRIPT_HASH}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
      );
    }
  });

  it("?embed=1 is the compact page, framable by the shop's own origins only", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const { token } = await makeQuestion(shop, { status: "routing", events: lifecycle(nextPhone()).routing });

    // No origins yet: nobody may frame it.
    const unset = await get(`/q/${token}?embed=1`);
    expect(unset.statusCode).toBe(200);
    expect(unset.body).toContain('<body class="embed" data-status="routing">');
    expect(unset.body).toContain(`<a href="/q/${token}" target="_blank" rel="noopener">Details</a>`);
    expect(frameAncestorsOf(unset.headers)).toBe("'none'");
    expect(unset.headers["x-frame-options"]).toBe("DENY");

    await deps.prisma.shop.update({
      where: { id: shop.id },
      data: { frameAncestors: ["https://brewbarn.example", "https://shop.brewbarn.example:8443", "https://x.example; script-src *"] },
    });
    const allowed = await get(`/q/${token}?embed=1`);
    expect(frameAncestorsOf(allowed.headers)).toBe("https://brewbarn.example https://shop.brewbarn.example:8443");
    expect(cspOf(allowed.headers)).not.toContain("script-src *");
    expect(allowed.headers["x-frame-options"]).toBeUndefined();
    expect(allowed.headers).toMatchObject({ "cache-control": "no-store", "referrer-policy": "no-referrer", "x-content-type-options": "nosniff" });

    // The full page and the JSON stay unframable whatever the shop allows.
    expect(frameAncestorsOf((await get(`/q/${token}`)).headers)).toBe("'none'");
    expect(frameAncestorsOf((await get(`/q/${token}?embed=0`)).headers)).toBe("'none'");
    const json = await getJson(`/q/${token}?embed=1`);
    expect(json.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(json.json().status).toBe("routing");
    expect(frameAncestorsOf(json.headers)).toBe("'none'");
  });

  it("refuses an embed value it does not know, whatever the token", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const { token } = await makeQuestion(shop, { status: "routing" });
    for (const url of [`/q/${token}?embed=yes`, `/q/${newToken()}?embed=yes`]) {
      const response = await getJson(url);
      expect(response.statusCode).toBe(400);
      expect(response.json().errors).toEqual([expect.objectContaining({ path: "querystring.embed" })]);
    }
  });

  it("answers every token that leads nowhere with the same 404, HTML for people and problem+json for programs", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    await makeQuestion(shop, { status: "routing" });
    const unknown = newToken();
    const malformed = ["short", "has space in it, sixteen+", "a".repeat(65), "AbCdEf0123456789xyzW%21", "..%2F..%2Fetc%2Fpasswd-aaaaaaaa", unknown.toLowerCase().slice(0, 23) + "!"];

    const html = await get(`/q/${unknown}`);
    expect(html.statusCode).toBe(404);
    expect(html.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(html.body).toContain("We can't find this question");
    const json = await getJson(`/q/${unknown}`);
    expect(json.statusCode).toBe(404);
    expect(json.headers["content-type"]).toBe("application/problem+json; charset=utf-8");
    expect(json.json()).toMatchObject({ status: 404, code: "not-found", detail: "No question has this link" });

    const headersOf = (response: typeof html) => {
      const { date: _date, "x-request-id": _id, "content-length": _length, ...rest } = response.headers;
      return rest;
    };
    for (const token of malformed) {
      const url = `/q/${encodeURIComponent(token).replaceAll("%25", "%")}`;
      const page = await get(url);
      expect(page.statusCode, url).toBe(404);
      expect(page.body).toBe(html.body);
      expect(headersOf(page)).toEqual(headersOf(html));
      const problem = await getJson(url);
      expect(problem.statusCode, url).toBe(404);
      const { instance: _instance, requestId: _requestId, ...body } = problem.json();
      const { instance: _i, requestId: _r, ...expected } = json.json();
      expect(body).toEqual(expected);
      expect(headersOf(problem)).toEqual(headersOf(json));
    }
    expect(headersOf(html)).toMatchObject({ "cache-control": "no-store", "x-frame-options": "DENY", "referrer-policy": "no-referrer" });
    expect(frameAncestorsOf(html.headers)).toBe("'none'");
  });

  it("shows no phone number, of anyone, anywhere, in any status", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const product = await makeProduct(app, shop, { name: "Grainfather G30" });
    const customerPhone = nextPhone();
    const expertPhone = nextPhone();
    const known = [customerPhone, expertPhone].flatMap((phone) => [phone, phone.slice(2), phone.slice(-7), `(${phone.slice(2, 5)}) ${phone.slice(5, 8)}-${phone.slice(-4)}`]);
    const phases = lifecycle(expertPhone);
    for (const [status, events] of Object.entries(phases) as [QuestionStatus, EventSpec[]][]) {
      // A name that is really a phone number, and one that hides it: neither may show.
      const sneaky = [...events, { kind: "session_ended", minutes: 10, data: { expertFirstName: `Dan ${expertPhone}`, endedBy: "idle" } }];
      for (const timeline of [events, sneaky]) {
        for (const preferredMode of ["sms", "voice"] as const) {
          const { token } = await makeQuestion(shop, { status, productId: product.id, events: timeline, customerPhone, preferredMode, closedAt: null });
          const answers = [
            (await get(`/q/${token}`)).body,
            (await get(`/q/${token}?embed=1`)).body,
            (await getJson(`/q/${token}`)).body.replace(ISO_TIMESTAMP, '"<date>"'),
          ];
          for (const answer of answers) {
            expect(answer, `${status} ${preferredMode}`).not.toMatch(PHONE_LIKE);
            for (const phone of known) expect(answer).not.toContain(phone);
          }
        }
      }
    }
    // The scan itself finds what it looks for.
    expect(`call ${customerPhone}`).toMatch(PHONE_LIKE);
    expect("(415) 555-0123").toMatch(PHONE_LIKE);
  });

  it("reads the page in one query, and shows a change at once (nothing cached)", async () => {
    const { app, deps } = ctx();
    const shop = await makeShop(app);
    const { token, id } = await makeQuestion(shop, { status: "routing", events: lifecycle(nextPhone()).routing });
    const queries = vi.spyOn(deps.sql, "query");
    try {
      await get(`/q/${token}`);
      expect(queries).toHaveBeenCalledTimes(1);
      queries.mockClear();
      await get(`/q/not-a-token`);
      expect(queries).not.toHaveBeenCalled();
    } finally {
      queries.mockRestore();
    }

    await deps.prisma.question.update({ where: { id }, data: { status: "matched" } });
    await deps.prisma.questionEvent.create({ data: { questionId: id, kind: "accepted", data: { expertFirstName: "Ann" }, createdAt: at(5) } });
    const after = (await getJson(`/q/${token}`)).json();
    expect(after.headline).toBe("Ann accepted and will text you");
    expect(after.steps[2]).toEqual({ key: "accepted", label: "Ann accepted", at: "2026-12-02T10:05:00.000Z", state: "current" });
  });

  it("shows only this question's events, and none it does not know", async () => {
    const { app } = ctx();
    const shop = await makeShop(app);
    const other = await makeQuestion(shop, { status: "matched", events: [{ kind: "accepted", minutes: 2, data: { expertFirstName: "Eve" } }] });
    const mine = await makeQuestion(shop, {
      status: "matched",
      events: [
        { kind: "mystery", minutes: 1, data: { expertFirstName: "Zed" } },
        { kind: "accepted", minutes: 3, data: { expertFirstName: "Dan", unexpected: { nested: true } } },
      ],
    });
    expect((await getJson(`/q/${mine.token}`)).json().expert).toEqual({ firstName: "Dan" });
    expect((await getJson(`/q/${other.token}`)).json().expert).toEqual({ firstName: "Eve" });
  });

  it("keeps the token out of the access log", () => {
    const token = newToken();
    expect(redactUrl(`/q/${token}?embed=1`)).toBe("/q/[redacted]?embed=1");
    expect(redactUrl(`/q/${token}`)).toBe("/q/[redacted]");
  });

  it("is documented in the OpenAPI document as public", async () => {
    const document = (await ctx().app.inject({ method: "GET", url: "/docs/json" })).json();
    const operation = document.paths["/q/{token}"].get;
    expect(operation.security).toEqual([]);
    expect(operation.parameters.map((parameter: { name: string; in: string }) => `${parameter.in}:${parameter.name}`).sort()).toEqual([
      "path:token",
      "query:embed",
    ]);
    expect(Object.keys(operation.responses["200"].content).sort()).toEqual(["application/json", "text/html"]);
    expect(Object.keys(operation.responses["404"].content).sort()).toEqual(["application/problem+json", "text/html"]);
    const schema = operation.responses["200"].content["application/json"].schema;
    const resolved = schema.$ref ? document.components.schemas[schema.$ref.split("/").at(-1)] : schema;
    expect(resolved.required).toEqual(expect.arrayContaining(["status", "headline", "steps", "elapsed", "next", "expert"]));
  });
});
