/**
 * HTML for the public status page: the full page people open from the link in
 * their first text, and a compact one a shop frames on its order page. Pure:
 * a view in, a string out, plus the headers that go with it (the CSP and its
 * frame-ancestors, the choice between HTML and JSON).
 *
 * Everything is inline (one stylesheet, one small script) so the page loads no
 * other resource; the CSP allows exactly those two by their SHA-256 hashes, so
 * no 'unsafe-inline' is needed and nothing injected could run. Every value
 * from the database goes through escapeHtml.
 */
import { createHash } from "node:crypto";
import { formatDuration, type StatusStep, type StatusView, type StepState } from "./status-view.js";

/** How often an open page asks whether anything changed. */
export const POLL_SECONDS = 10;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * Readable on a phone: system fonts, 17 px text, one column. Colours meet
 * WCAG AA (4.5:1) on their backgrounds: #1f2328 (15:1), #57606a (6.2:1) on
 * white, #0a58ca (6.2:1), #1a7f37 (5.1:1).
 */
export const STATUS_PAGE_STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 17px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328; background: #fff; }
main { max-width: 34rem; margin: 0 auto; padding: 1.25rem 1rem 2rem; }
h1 { font-size: 1.45rem; line-height: 1.25; margin: .25rem 0 1rem; }
h2 { font-size: 1rem; margin: 1.5rem 0 .25rem; }
p { margin: .5rem 0; }
.shop, .muted, .when { color: #57606a; }
.shop { font-size: .95rem; margin: 0; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
.steps { list-style: none; padding: 0; margin: 0; }
.steps li { position: relative; padding: 0 0 1rem 2rem; }
.steps li::before { content: ""; position: absolute; left: .3rem; top: .35rem; width: .8rem; height: .8rem; border-radius: 50%; border: 2px solid #8c959f; background: #fff; }
.steps li::after { content: ""; position: absolute; left: .65rem; top: 1.3rem; bottom: .1rem; width: 2px; background: #d0d7de; }
.steps li:last-child::after { display: none; }
.steps .done::before { background: #1a7f37; border-color: #1a7f37; }
.steps .current::before { border-color: #0a58ca; box-shadow: 0 0 0 3px #cfe2ff; }
.steps .current .label { font-weight: 600; color: #0a58ca; }
.steps .upcoming .label, .steps .skipped .label { color: #57606a; }
.steps .skipped .label { text-decoration: line-through; }
.when { font-size: .9rem; margin-left: .4rem; }
.next { font-size: 1.05rem; }
.note { font-size: .9rem; color: #57606a; border-top: 1px solid #d0d7de; margin-top: 1.5rem; padding-top: .75rem; }
.embed main { max-width: none; padding: .75rem; }
.embed .headline { font-size: 1.1rem; font-weight: 600; margin: 0 0 .5rem; }
.bar { display: flex; gap: 4px; list-style: none; padding: 0; margin: 0 0 .5rem; }
.bar li { flex: 1; height: 6px; border-radius: 3px; background: #d0d7de; }
.bar .done { background: #1a7f37; }
.bar .current { background: #0a58ca; }
.embed .next { font-size: .95rem; }
.embed .muted { font-size: .85rem; margin: 0; }
a { color: #0a58ca; }
`;

/**
 * While the question is open: every POLL_SECONDS ask for the JSON view; if the
 * status, headline or next step changed, reload (the server renders the new
 * page); otherwise only the elapsed time moves. A hidden tab does not ask; a
 * 404 (the question is gone) stops it; a closed question's page has no script.
 */
export const STATUS_PAGE_SCRIPT = `
(function () {
  var POLL_MS = ${POLL_SECONDS * 1000};
  var body = document.body;
  var headline = document.getElementById("headline");
  var next = document.getElementById("next");
  var elapsed = document.getElementById("elapsed");
  function schedule() { setTimeout(poll, POLL_MS); }
  function show(view) {
    if (view.status !== body.dataset.status || view.headline !== headline.textContent || view.next !== next.textContent) {
      location.reload();
      return;
    }
    elapsed.textContent = view.elapsed.text;
    schedule();
  }
  function poll() {
    if (document.hidden) return schedule();
    fetch(location.pathname, { headers: { accept: "application/json" }, cache: "no-store", credentials: "omit" })
      .then(function (response) {
        if (response.status === 404) return;
        if (!response.ok) return schedule();
        return response.json().then(show);
      })
      .catch(schedule);
  }
  schedule();
})();
`;

// Stryker disable next-line StringLiteral: "" as the encoding is utf8 (an equivalent mutant); an unknown hash name throws on import, which Stryker's vitest runner scores as Survived (stryker-js#6150)
const cspHash = (source: string) => `'sha256-${createHash("sha256").update(source, "utf8").digest("base64")}'`;
export const STYLE_HASH = cspHash(STATUS_PAGE_STYLE);
export const SCRIPT_HASH = cspHash(STATUS_PAGE_SCRIPT);

/**
 * An origin a CSP source list can hold: scheme, host (optionally `*.` for
 * subdomains), port. Anything else (a path, a quote, a space, a semicolon that
 * would start a directive of its own) is left out rather than trusted.
 */
const FRAME_ORIGIN = /^https?:\/\/(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

/** The frame-ancestors sources for a shop's origins: the valid ones, or 'none' when none is. */
export function frameAncestorsSources(origins: readonly string[]): string {
  const valid = origins.map((origin) => origin.trim().toLowerCase().replace(/\/$/, "")).filter((origin) => FRAME_ORIGIN.test(origin));
  return valid.length === 0 ? "'none'" : [...new Set(valid)].join(" ");
}

/** The page's CSP: nothing but its own style, its own script and its own JSON; framed only by `frameAncestors`. */
export function contentSecurityPolicy(frameAncestors: string): string {
  return [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    `script-src ${SCRIPT_HASH}`,
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${frameAncestors}`,
  ].join("; ");
}

/**
 * Whether the client asked for JSON over HTML (RFC 9110 content negotiation:
 * the most specific range sets a type's quality). At equal quality a type the
 * client named beats one it only matched by wildcard (axios sends
 * `application/json, text/plain, *\/*`); a true tie, no Accept or `*\/*` is
 * HTML: browsers and people get the page.
 */
export function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranges = accept.split(",").map((part) => {
    // Stryker disable next-line StringLiteral: split always yields a first piece; the default only satisfies the type checker
    const [type = "", ...parameters] = part.split(";").map((piece) => piece.trim().toLowerCase());
    const q = parameters.find((parameter) => parameter.startsWith("q="));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    return { type, quality: Number.isNaN(quality) ? 0 : quality };
  });
  /** [quality, specificity]: 2 named, 1 `type/*`, 0 `*\/*` or no match. */
  const preference = (mediaType: string): [number, number] => {
    const candidates = [mediaType, `${mediaType.split("/")[0]}/*`, "*/*"];
    for (const [index, candidate] of candidates.entries()) {
      const range = ranges.find((each) => each.type === candidate);
      if (range) return [range.quality, 2 - index];
    }
    return [0, 0];
  };
  const [jsonQuality, jsonSpecificity] = preference("application/json");
  const [htmlQuality, htmlSpecificity] = preference("text/html");
  return jsonQuality > htmlQuality || (jsonQuality === htmlQuality && jsonQuality > 0 && jsonSpecificity > htmlSpecificity);
}

const STATE_WORDS: Record<StepState, string> = { done: "done", current: "now", upcoming: "next", skipped: "not reached" };

/** A step's time as an offset from the question, which never goes stale: "after 4 min". */
function stepWhen(step: StatusStep, askedAt: Date): string {
  if (step.key === "received" || step.at === null) return "";
  const seconds = Math.max(0, Math.floor((step.at.getTime() - askedAt.getTime()) / 1000));
  return seconds < 60 ? "within a minute" : `after ${formatDuration(seconds)}`;
}

function stepItem(step: StatusStep, askedAt: Date): string {
  const when = stepWhen(step, askedAt);
  return (
    `<li class="${step.state}" data-step="${step.key}"${step.state === "current" ? ' aria-current="step"' : ""}>` +
    `<span class="label">${escapeHtml(step.label)}</span>` +
    (when ? `<span class="when">${when}</span>` : "") +
    `<span class="sr"> (${STATE_WORDS[step.state]})</span></li>`
  );
}

/** "Asked 12 min ago" while open; "Answered after 25 min", "Closed after 2 h" once closed. */
function elapsedLine(view: StatusView): string {
  const value = `<span id="elapsed">${escapeHtml(view.elapsed.text)}</span>`;
  if (view.open) return `Asked ${value} ago`;
  return `${view.status === "answered" ? "Answered" : "Closed"} after ${value}`;
}

function documentHtml(view: StatusView, variant: "full" | "embed", main: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(view.headline)} - ${escapeHtml(view.shopName)}</title>
<style>${STATUS_PAGE_STYLE}</style>
</head>
<body class="${variant}" data-status="${view.status}">
${main}
${view.open ? `<script>${STATUS_PAGE_SCRIPT}</script>\n` : ""}</body>
</html>
`;
}

export function renderStatusPage(view: StatusView): string {
  const product = view.productName ? `<p class="muted">About: ${escapeHtml(view.productName)}</p>\n` : "";
  const main = `<main>
<p class="shop">${escapeHtml(view.shopName)}: your question</p>
<h1 id="headline">${escapeHtml(view.headline)}</h1>
${product}<ol class="steps" aria-label="Progress">
${view.steps.map((step) => stepItem(step, view.askedAt)).join("\n")}
</ol>
<p class="muted">${elapsedLine(view)}</p>
<h2>What happens next</h2>
<p class="next" id="next">${escapeHtml(view.next)}</p>
<p class="note">${view.open ? "This page updates by itself. " : ""}Anyone with this link can see this page, so keep it to yourself.</p>
</main>`;
  return documentHtml(view, "full", main);
}

/** The compact version for a shop's order page: headline, a progress bar, what's next, and a link to the full page. */
export function renderStatusEmbed(view: StatusView, fullPagePath: string): string {
  const bar = view.steps
    .map((step) => `<li class="${step.state}" data-step="${step.key}"><span class="sr">${escapeHtml(step.label)} (${STATE_WORDS[step.state]})</span></li>`)
    .join("");
  const main = `<main>
<p class="headline" id="headline">${escapeHtml(view.headline)}</p>
<ol class="bar" aria-label="Progress">${bar}</ol>
<p class="next" id="next">${escapeHtml(view.next)}</p>
<p class="muted">${elapsedLine(view)} &middot; <a href="${escapeHtml(fullPagePath)}" target="_blank" rel="noopener">Details</a></p>
</main>`;
  return documentHtml(view, "embed", main);
}

/** One answer for an unknown and a malformed link alike, so a token cannot be probed. */
export function renderNotFoundPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>Question not found</title>
<style>${STATUS_PAGE_STYLE}</style>
</head>
<body class="full">
<main>
<h1 id="headline">We can't find this question</h1>
<p>Check that the link is the whole one from your text message. If it is, ask your question again.</p>
</main>
</body>
</html>
`;
}
