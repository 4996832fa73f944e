/**
 * What the sandbox's HTML pages share: escaping, one stylesheet allowed by
 * its hash, and a Content-Security-Policy with no scripts and no external
 * assets. Pages are rendered on the server and act through plain forms.
 */
import { createHash } from "node:crypto";
import type { FastifyReply } from "fastify";

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const STYLE = `
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem; color: #222; max-width: 1200px; }
  h1 { font-size: 1.3rem; } h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  table { border-collapse: collapse; width: 100%; font-size: .9rem; }
  th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left; vertical-align: top; }
  code { background: #eee; padding: 0 .3rem; border-radius: 4px; }
  form.inline { display: inline-flex; gap: .3rem; margin: 0 .3rem .3rem 0; flex-wrap: wrap; }
  input, select, button { font: inherit; padding: .2rem .5rem; }
  .notice { padding: .5rem .8rem; border-radius: 6px; background: #eef6ee; }
  .notice.error { background: #fbeaea; color: #8a1010; }
  .muted { color: #555; }
  .ok { color: #0a6b2a; } .bad { color: #a01010; }
`;
const STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;

/**
 * No scripts, no external anything; forms post to the sandbox itself, or
 * (the onboarding page) follow a redirect to the platform's return and
 * refresh URLs, which Chromium checks against form-action too.
 */
export function contentSecurityPolicy(formTargets: readonly string[] = []): string {
  return [
    "default-src 'none'",
    `style-src ${STYLE_HASH}`,
    "img-src 'none'",
    "base-uri 'none'",
    `form-action ${["'self'", ...formTargets].join(" ")}`,
    "frame-ancestors 'none'",
  ].join("; ");
}

/** The origin of a URL for a CSP source list, or nothing when it is not http(s). */
export function originOf(url: string): string[] {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? [parsed.origin] : [];
  } catch {
    return [];
  }
}

export function sendPage(reply: FastifyReply, title: string, body: string, options: { formTargets?: readonly string[]; status?: number } = {}) {
  return reply
    .code(options.status ?? 200)
    .header("content-security-policy", contentSecurityPolicy(options.formTargets))
    .header("cache-control", "no-store")
    .header("x-content-type-options", "nosniff")
    .type("text/html; charset=utf-8")
    .send(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
${body}
</body>
</html>`);
}
