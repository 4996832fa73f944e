import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  contentSecurityPolicy,
  escapeHtml,
  frameAncestorsSources,
  POLL_SECONDS,
  prefersJson,
  renderNotFoundPage,
  renderStatusEmbed,
  renderStatusPage,
  SCRIPT_HASH,
  STATUS_PAGE_SCRIPT,
  STATUS_PAGE_STYLE,
  STYLE_HASH,
} from "./status-page.js";
import { buildStatusView, type StatusEvent, type StatusView } from "./status-view.js";
import type { QuestionStatus } from "../../generated/prisma/enums.js";

const ASKED = new Date("2026-12-02T10:00:00.000Z");
const at = (minutes: number) => new Date(ASKED.getTime() + minutes * 60_000);
const event = (kind: string, minutes: number, data: unknown = {}): StatusEvent => ({ kind, data, createdAt: at(minutes) });
const dan = { expertFirstName: "Dan" };

function view(status: QuestionStatus, events: StatusEvent[], fields: { shopName?: string; productName?: string | null; closedAt?: Date } = {}): StatusView {
  return buildStatusView({
    question: { status, createdAt: ASKED, closedAt: fields.closedAt ?? null, preferredMode: "sms" },
    productName: fields.productName === undefined ? "Grainfather G30" : fields.productName,
    shopName: fields.shopName ?? "Brew Barn",
    events,
    now: at(12),
  });
}

const matched = () => view("matched", [event("received", 0), event("searching", 0.5), event("accepted", 4.5, dan)]);
const answered = () =>
  view("answered", [event("searching", 0.5), event("accepted", 4.5, dan), event("session_started", 5, dan)], { closedAt: at(25) });

const sha256 = (text: string) => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;
const inlineOf = (html: string, tag: "style" | "script") => [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => m[1]!);

describe("escapeHtml", () => {
  it("escapes the five characters that matter in text and attributes", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe("&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;");
    expect(escapeHtml("Brew Barn")).toBe("Brew Barn");
  });
});

describe("frameAncestorsSources", () => {
  it.each<[string[], string]>([
    [[], "'none'"],
    [["https://brewbarn.example"], "https://brewbarn.example"],
    [["https://brewbarn.example", "https://shop.brewbarn.example:8443"], "https://brewbarn.example https://shop.brewbarn.example:8443"],
    [["https://*.brewbarn.example"], "https://*.brewbarn.example"],
    [["http://127.0.0.1:4100"], "http://127.0.0.1:4100"],
    [[" HTTPS://BrewBarn.Example/ "], "https://brewbarn.example"],
    [["https://brewbarn.example", "https://brewbarn.example/"], "https://brewbarn.example"],
    [["https://my-shop.example"], "https://my-shop.example"],
    [["https://a.example"], "https://a.example"],
    // What PATCH /v1/shop stores: URL.origin, IDNs in punycode, localhost for development.
    [["https://xn--bcher-kva.example", "http://localhost:5173"], "https://xn--bcher-kva.example http://localhost:5173"],
    // Each of these would widen or break the policy if copied into the header as given.
    [["https://brewbarn.example; script-src *"], "'none'"],
    [["https://brewbarn.example\r\nSet-Cookie: a=b"], "'none'"],
    [["https://brewbarn.example https://evil.example"], "'none'"],
    [["*"], "'none'"],
    [["'self'"], "'none'"],
    [["https:"], "'none'"],
    [["javascript:alert(1)"], "'none'"],
    [["ftp://brewbarn.example"], "'none'"],
    [["https://brewbarn.example/orders"], "'none'"],
    [["brewbarn.example"], "'none'"],
    [["https://-brewbarn.example"], "'none'"],
    [["https://brewbarn-.example"], "'none'"],
    [["https://brewbarn..example"], "'none'"],
    [["https://brewbarn.example:123456"], "'none'"],
    [["https://*brewbarn.example"], "'none'"],
    [["xhttps://brewbarn.example"], "'none'"],
    [["https://brewbarn.example/x"], "'none'"],
    [["https://bad.example'", "https://good.example"], "https://good.example"],
  ])("%j -> %s", (origins, sources) => {
    expect(frameAncestorsSources(origins)).toBe(sources);
  });
});

describe("contentSecurityPolicy", () => {
  it("allows only the page's own style, script and JSON, and the given ancestors", () => {
    expect(contentSecurityPolicy("'none'")).toBe(
      `default-src 'none'; style-src ${STYLE_HASH}; script-src ${SCRIPT_HASH}; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    expect(contentSecurityPolicy("https://brewbarn.example")).toMatch(/; frame-ancestors https:\/\/brewbarn\.example$/);
    expect(contentSecurityPolicy("'none'")).not.toContain("unsafe");
  });

  it("hashes exactly the inline style and script the pages carry", () => {
    expect(STYLE_HASH).toBe(sha256(STATUS_PAGE_STYLE));
    expect(SCRIPT_HASH).toBe(sha256(STATUS_PAGE_SCRIPT));
    for (const html of [renderStatusPage(matched()), renderStatusEmbed(matched(), "/q/abc"), renderNotFoundPage()]) {
      for (const style of inlineOf(html, "style")) expect(sha256(style)).toBe(STYLE_HASH);
      for (const script of inlineOf(html, "script")) expect(sha256(script)).toBe(SCRIPT_HASH);
    }
  });
});

describe("prefersJson", () => {
  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ["", false],
    ["application/json", true],
    ["Application/JSON", true],
    ["application/json; charset=utf-8", true],
    ["application/*", true],
    ["*/*", false],
    ["text/html", false],
    ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false],
    ["application/json, text/plain, */*", true],
    ["text/html;q=0.5, application/json", true],
    ["text/html, application/json", false],
    ["application/json;q=0.9, text/html", false],
    ["text/*;q=0.2, application/json;q=0.3", true],
    ["application/json;q=0, */*", false],
    ["application/json;q=abc", false],
    ["application/json;level=1", true],
    ["application/json ; q=0.5 , text/html ; q=0.4", true],
    ["*/*;q=0.1, application/json;q=0.2", true],
    ["application/problem+json", false],
    ["text/plain", false],
    ["*/*;q=0.5, text/html;q=0.4", true],
    ["application/json;q=0.5, */*", false],
    ["text/*, application/json", true],
    ["application/*, text/html", false],
    ["*/*, application/*", true],
    ["application/json;q=0, text/html;q=0", false],
    ["application/json;q=0, */*;q=0", false],
  ])("%j -> %s", (accept, json) => {
    expect(prefersJson(accept)).toBe(json);
  });
});

describe("renderStatusPage", () => {
  it("shows the headline, the product, the timeline and what happens next", () => {
    const html = renderStatusPage(matched());
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<meta name="robots" content="noindex, nofollow">');
    expect(html).toContain("<title>Dan accepted and will text you - Brew Barn</title>");
    expect(html).toContain('<body class="full" data-status="matched">');
    expect(html).toContain('<p class="shop">Brew Barn: your question</p>');
    expect(html).toContain('<h1 id="headline">Dan accepted and will text you</h1>');
    expect(html).toContain('<p class="muted">About: Grainfather G30</p>');
    expect(html).toContain('<ol class="steps" aria-label="Progress">');
    expect(html).toContain('<li class="done" data-step="received"><span class="label">Received</span><span class="sr"> (done)</span></li>');
    expect(html).toContain(
      '<li class="done" data-step="searching"><span class="label">Looking for an expert</span><span class="when">within a minute</span><span class="sr"> (done)</span></li>',
    );
    expect(html).toContain(
      '<li class="current" data-step="accepted" aria-current="step"><span class="label">Dan accepted</span><span class="when">after 4 min</span><span class="sr"> (now)</span></li>',
    );
    expect(html).toContain('<li class="upcoming" data-step="in_conversation"><span class="label">In conversation</span><span class="sr"> (next)</span></li>');
    expect(html).toContain('<p class="muted">Asked <span id="elapsed">12 min</span> ago</p>');
    expect(html).toContain("<h2>What happens next</h2>");
    expect(html).toContain('<p class="next" id="next">Reply to Dan&#39;s texts on your phone.</p>');
    expect(html).toContain('<p class="note">This page updates by itself. Anyone with this link can see this page, so keep it to yourself.</p>');
    expect(html.match(/aria-current/g)).toHaveLength(1);
  });

  it("refreshes itself only while the question is open", () => {
    expect(inlineOf(renderStatusPage(matched()), "script")).toEqual([STATUS_PAGE_SCRIPT]);
    const closed = renderStatusPage(answered());
    expect(inlineOf(closed, "script")).toEqual([]);
    expect(closed).toContain('<p class="muted">Answered after <span id="elapsed">25 min</span></p>');
    expect(closed).toContain('<p class="note">Anyone with this link');
    expect(closed).toContain('<li class="done" data-step="answered"><span class="label">Answered</span><span class="when">after 25 min</span>');
    const expired = renderStatusPage(view("expired", [event("searching", 1), event("expired", 30)], { closedAt: at(30) }));
    expect(expired).toContain('<p class="muted">Closed after <span id="elapsed">30 min</span></p>');
    expect(expired).toContain('<li class="skipped" data-step="accepted"><span class="label">An expert accepted</span><span class="sr"> (not reached)</span></li>');
    expect(expired).not.toContain("aria-current");
  });

  it("leaves the product out when there is none", () => {
    const html = renderStatusPage(view("routing", [], { productName: null }));
    expect(html).not.toContain("About:");
    expect(html).toContain('<h1 id="headline">Looking for an expert</h1>\n<ol class="steps" aria-label="Progress">\n<li ');
  });

  it("puts one step per line, and a closed page ends with its content", () => {
    expect(renderStatusPage(matched())).toContain('(done)</span></li>\n<li class="current"');
    expect(renderStatusPage(answered())).toMatch(/<\/main>\n<\/body>\n<\/html>\n$/);
  });

  it("times a step reached a minute after the question as after 1 min", () => {
    const html = renderStatusPage(view("routing", [event("searching", 1)]));
    expect(html).toContain('<span class="label">Looking for an expert</span><span class="when">after 1 min</span>');
  });

  it("escapes whatever the shop or a product is called", () => {
    const html = renderStatusPage(view("routing", [], { shopName: `<script>alert("x")</script>`, productName: "Kettle & <b>Co</b>" }));
    expect(html).not.toContain("<script>alert");
    expect(html).not.toContain("<b>");
    expect(html).toContain("&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;: your question");
    expect(html).toContain("Looking for a Kettle &#38; &#60;b&#62;Co&#60;/b&#62; expert");
    expect(html).toContain("About: Kettle &#38; &#60;b&#62;Co&#60;/b&#62;");
    expect(html).toContain("<title>Looking for a Kettle &#38; &#60;b&#62;Co&#60;/b&#62; expert - &#60;script&#62;");
  });

  it("loads nothing from elsewhere and needs no inline styles", () => {
    for (const html of [renderStatusPage(matched()), renderStatusEmbed(matched(), "/q/abc"), renderNotFoundPage()]) {
      expect(html).not.toMatch(/\s(src|style)=/);
      expect(html).not.toMatch(/<link|<img|<iframe|url\(|@import|https?:/);
    }
  });
});

describe("renderStatusEmbed", () => {
  it("is compact: headline, a progress bar, what's next and a link to the full page", () => {
    const html = renderStatusEmbed(matched(), "/q/tok_EN-1");
    expect(html).toContain('<body class="embed" data-status="matched">');
    expect(html).toContain('<p class="headline" id="headline">Dan accepted and will text you</p>');
    expect(html).toContain(
      '<ol class="bar" aria-label="Progress"><li class="done" data-step="received"><span class="sr">Received (done)</span></li>' +
        '<li class="done" data-step="searching"><span class="sr">Looking for an expert (done)</span></li>' +
        '<li class="current" data-step="accepted"><span class="sr">Dan accepted (now)</span></li>' +
        '<li class="upcoming" data-step="in_conversation"><span class="sr">In conversation (next)</span></li>' +
        '<li class="upcoming" data-step="answered"><span class="sr">Answered (next)</span></li></ol>',
    );
    expect(html).toContain('<p class="next" id="next">Reply to Dan&#39;s texts on your phone.</p>');
    expect(html).toContain(
      '<p class="muted">Asked <span id="elapsed">12 min</span> ago &middot; <a href="/q/tok_EN-1" target="_blank" rel="noopener">Details</a></p>',
    );
    expect(html).not.toContain("<h1");
    expect(inlineOf(html, "script")).toEqual([STATUS_PAGE_SCRIPT]);
    expect(inlineOf(renderStatusEmbed(answered(), "/q/x"), "script")).toEqual([]);
    expect(renderStatusEmbed(matched(), `/q/"><x`)).toContain('href="/q/&#34;&#62;&#60;x"');
  });
});

describe("renderNotFoundPage", () => {
  it("says so plainly, with no script", () => {
    const html = renderNotFoundPage();
    expect(html).toContain("<title>Question not found</title>");
    expect(html).toContain(`<h1 id="headline">We can't find this question</h1>`);
    expect(html).toContain("Check that the link is the whole one from your text message.");
    expect(inlineOf(html, "style")).toEqual([STATUS_PAGE_STYLE]);
    expect(inlineOf(html, "script")).toEqual([]);
  });
});

describe("the stylesheet", () => {
  it("styles every step state, the embed's bar and the screen-reader text", () => {
    for (const rule of [".steps .done::before", ".steps .current::before", ".steps .skipped .label", ".bar .done", ".bar .current", ".sr {", ".embed main"]) {
      expect(STATUS_PAGE_STYLE).toContain(rule);
    }
  });
});

/**
 * The page's script, run against a stand-in for the browser: what it fetches,
 * when, and what it does with the answer.
 */
describe("the refresh script", () => {
  interface Harness {
    timers: { ms: number; run: () => void }[];
    fetches: { url: string; init: unknown }[];
    reloads: number;
    elapsed: { textContent: string };
    document: { hidden: boolean };
    /** Fires the oldest pending timer and lets the fetch chain settle. */
    tick(): Promise<void>;
  }

  function harness(answer: () => Promise<{ status: number; ok: boolean; json: () => Promise<unknown> }>): Harness {
    const elements: Record<string, { textContent: string }> = {
      headline: { textContent: "Dan accepted and will text you" },
      next: { textContent: "Reply to Dan's texts on your phone." },
      elapsed: { textContent: "12 min" },
    };
    const h: Harness = {
      timers: [],
      fetches: [],
      reloads: 0,
      elapsed: elements.elapsed!,
      document: { hidden: false },
      async tick() {
        const timer = h.timers.shift();
        timer?.run();
        for (let i = 0; i < 10; i += 1) await Promise.resolve();
      },
    };
    const document = Object.assign(h.document, {
      body: { dataset: { status: "matched" } },
      getElementById: (id: string) => elements[id],
    });
    const location = { pathname: "/q/abc", reload: () => (h.reloads += 1) };
    const fetch = (url: string, init: unknown) => {
      h.fetches.push({ url, init });
      return answer();
    };
    const setTimeout = (run: () => void, ms: number) => h.timers.push({ ms, run });
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- the script is ours, run here as the browser would
    new Function("document", "location", "fetch", "setTimeout", STATUS_PAGE_SCRIPT)(document, location, fetch, setTimeout);
    return h;
  }

  const same = { status: "matched", headline: "Dan accepted and will text you", next: "Reply to Dan's texts on your phone.", elapsed: { text: "13 min" } };
  const reply = (status: number, body: unknown = same) => () => Promise.resolve({ status, ok: status < 300, json: () => Promise.resolve(body) });

  it("asks for the JSON view every 10 s and moves only the elapsed time while nothing changed", async () => {
    const h = harness(reply(200));
    expect(POLL_SECONDS).toBe(10);
    expect(h.timers.map((timer) => timer.ms)).toEqual([10_000]);
    expect(h.fetches).toEqual([]);
    await h.tick();
    expect(h.fetches).toEqual([{ url: "/q/abc", init: { headers: { accept: "application/json" }, cache: "no-store", credentials: "omit" } }]);
    expect(h.elapsed.textContent).toBe("13 min");
    expect(h.reloads).toBe(0);
    expect(h.timers.map((timer) => timer.ms)).toEqual([10_000]);
  });

  it.each([
    ["status", { ...same, status: "in_session" }],
    ["headline", { ...same, headline: "In conversation with Dan" }],
    ["next step", { ...same, next: "Text DONE when you're finished." }],
  ])("reloads when the %s changed, and asks no more", async (_, body) => {
    const h = harness(reply(200, body));
    await h.tick();
    expect(h.reloads).toBe(1);
    expect(h.timers).toEqual([]);
    expect(h.elapsed.textContent).toBe("12 min");
  });

  it("does not ask while the tab is hidden, and stops for good on a 404", async () => {
    const h = harness(reply(404));
    h.document.hidden = true;
    await h.tick();
    expect(h.fetches).toHaveLength(0);
    expect(h.timers).toHaveLength(1);
    h.document.hidden = false;
    await h.tick();
    expect(h.fetches).toHaveLength(1);
    expect(h.timers).toEqual([]);
    expect(h.reloads).toBe(0);
  });

  it("keeps asking after a server error, a failed fetch or a bad body", async () => {
    for (const answer of [
      reply(503),
      () => Promise.reject(new Error("offline")),
      () => Promise.resolve({ status: 200, ok: true, json: () => Promise.reject(new SyntaxError("bad json")) }),
    ]) {
      const h = harness(answer);
      await h.tick();
      expect(h.fetches).toHaveLength(1);
      expect(h.timers.map((timer) => timer.ms)).toEqual([10_000]);
      expect(h.reloads).toBe(0);
    }
  });
});
