/**
 * The expert's onboarding pages: GET /e/onboard/:token (public: the token in
 * the text is the credential) sends the browser to a fresh Stripe onboarding
 * link, and GET /e/onboard/:token/return tells the truth the account tells.
 * An unknown token is one small 404 page, whatever the reason (a suspended
 * or invited expert's link included). A link older than its week is a 410
 * page, and a fresh one is texted (onboarding.ts).
 */
import type { FastifyReply } from "fastify";
import type { Redis } from "ioredis";
import { sha256Hex } from "../../lib/tokens.js";
import { z } from "zod";
import type { RoutesPlugin } from "../../http.js";
import { contentSecurityPolicy, escapeHtml, STATUS_PAGE_STYLE } from "../questions/status-page.js";
import { finishOnboarding, startOnboarding, type OnboardingDeps, type OnboardingStep } from "./onboarding.js";

const tokenParams = z.object({ token: z.string().describe("The onboarding token from the expert's text (anything that is not one is the same 404 page)") });
const htmlPage = z.string().describe("text/html");

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>${escapeHtml(title)}</title>
<style>${STATUS_PAGE_STYLE}</style>
</head>
<body class="full">
<main>
${body}
</main>
</body>
</html>
`;
}

const NOT_FOUND_PAGE = page(
  "Link not found",
  `<h1>We can't find this link</h1>
<p>It may have been replaced by a newer one. Use the latest link we texted you.</p>`,
);

const EXPIRED_PAGE = page(
  "Link expired",
  `<h1>This link has expired</h1>
<p>We'll text you a new one. If one arrived in the last hour, use that.</p>`,
);

const DONE_PAGE = page(
  "You're all set",
  `<h1>You're all set</h1>
<p>Payouts are on: your earnings will be sent to your account after each review.</p>`,
);

const TOO_MANY_PAGE = page(
  "Too many visits",
  `<h1>This link was opened many times in a row</h1>
<p>Please wait a minute, then open it again.</p>`,
);

/**
 * Each visit of a link asks Stripe for a fresh account link: a looping link
 * preview, or a leaked link hammered by someone, must not spend the
 * platform's Stripe request budget (which transfers share). Per link, in
 * Redis, so every api process counts together; without Redis the visit is
 * let through (the link itself is the credential, and Stripe's own limits
 * still apply).
 */
export const ONBOARDING_VISITS_PER_MINUTE = 10;

async function visitAllowed(redis: Redis, token: string): Promise<boolean> {
  const key = `onboard-visits:${sha256Hex(token)}`;
  try {
    const [[, visits]] = (await redis.multi().incr(key).expire(key, 60, "NX").exec()) as [[Error | null, number]];
    return visits <= ONBOARDING_VISITS_PER_MINUTE;
  } catch {
    return true;
  }
}

const UNAVAILABLE_PAGE = page(
  "Try again in a minute",
  `<h1>We couldn't reach our payment provider</h1>
<p>Nothing is lost. Please open the link again in a minute.</p>`,
);

/** "Still needs information", with the way back to the onboarding link. */
function pendingPage(token: string, step: Extract<OnboardingStep, { kind: "pending" }>): string {
  const count = step.requirementsDue.length;
  const what =
    count > 0
      ? `Stripe still needs ${count === 1 ? "one more detail" : `${count} more details`} before payouts can be turned on.`
      : step.detailsSubmitted
        ? "Stripe is checking your details. Payouts will be turned on once that is done; we'll text you if anything else is needed."
        : "Your payout set-up isn't finished yet.";
  return page(
    "Payouts are not on yet",
    `<h1>Payouts are not on yet</h1>
<p>${escapeHtml(what)}</p>
<p><a href="/e/onboard/${escapeHtml(token)}">Continue setting up payouts</a></p>`,
  );
}

export const onboardingRoutes: RoutesPlugin<{ deps: OnboardingDeps & { redis: Redis } }> = async (app, { deps }) => {
  app.addHook("onSend", async (_request, reply) => {
    reply
      .header("cache-control", "no-store")
      .header("referrer-policy", "no-referrer")
      .header("x-content-type-options", "nosniff")
      .header("x-frame-options", "DENY")
      .header("content-security-policy", contentSecurityPolicy("'none'"));
  });

  const html = (reply: FastifyReply, status: number, body: string): FastifyReply => reply.code(status).type("text/html; charset=utf-8").send(body);

  /** Each step of either page as the browser gets it. */
  const answer = (reply: FastifyReply, token: string, step: OnboardingStep): FastifyReply => {
    switch (step.kind) {
      case "redirect":
        return reply.redirect(step.url, 303);
      case "done":
        return html(reply, 200, DONE_PAGE);
      case "pending":
        return html(reply, 200, pendingPage(token, step));
      case "not-found":
        return html(reply, 404, NOT_FOUND_PAGE);
      case "expired":
        return html(reply, 410, EXPIRED_PAGE);
      default:
        return html(reply, 503, UNAVAILABLE_PAGE);
    }
  };

  app.get(
    "/e/onboard/:token",
    {
      schema: {
        tags: ["payouts"],
        summary: "An expert's payout set-up link (texted): redirects to a fresh Stripe onboarding link",
        description:
          "Public: the token in the texted link is the credential. Creates the expert's Stripe Express account once, then answers " +
          "303 to a fresh account_onboarding link (Stripe's links are single-use and short-lived, so the text carries this URL instead). " +
          "Also Stripe's refresh_url. When payouts are already on, a 'you're all set' page. An unknown token (or a suspended or invited " +
          "expert's) is a 404 page. A link works for ONBOARDING_LINK_TTL_DAYS (7) after it was texted; after that it is a 410 page, " +
          "and a fresh link is texted (at most one an hour).",
        security: [],
        params: tokenParams,
        response: {
          200: { description: "Payouts are already on", content: { "text/html": { schema: htmlPage } } },
          303: z.null().describe("To Stripe's onboarding (Location: a fresh, single-use account link)"),
          404: { description: "No expert has this link", content: { "text/html": { schema: htmlPage } } },
          410: { description: "The link has expired; a fresh one is texted", content: { "text/html": { schema: htmlPage } } },
          429: { description: `More than ${ONBOARDING_VISITS_PER_MINUTE} visits of this link in a minute`, content: { "text/html": { schema: htmlPage } } },
          503: { description: "Stripe could not be reached; try again", content: { "text/html": { schema: htmlPage } } },
        },
      },
    },
    async (request, reply) => {
      if (!(await visitAllowed(deps.redis, request.params.token))) return html(reply.header("retry-after", "60"), 429, TOO_MANY_PAGE);
      return answer(reply, request.params.token, await startOnboarding(deps, request.params.token));
    },
  );

  app.get(
    "/e/onboard/:token/return",
    {
      schema: {
        tags: ["payouts"],
        summary: "Where Stripe's onboarding returns: says whether payouts are on, from the account itself",
        description:
          "Public. Stripe passes no state (the expert may have saved for later), so the account is retrieved and its state applied; " +
          "the page says 'payouts are on' or what is still missing, with a link back to the set-up. Works as long as the link does " +
          "(a newer text does not end it); an expired link is the 410 page.",
        security: [],
        params: tokenParams,
        response: {
          200: { description: "The expert's payout set-up, as the account tells it", content: { "text/html": { schema: htmlPage } } },
          404: { description: "No expert has this link", content: { "text/html": { schema: htmlPage } } },
          410: { description: "The link has expired; a fresh one is texted", content: { "text/html": { schema: htmlPage } } },
          503: { description: "Stripe could not be reached; try again", content: { "text/html": { schema: htmlPage } } },
        },
      },
    },
    async (request, reply) => {
      return answer(reply, request.params.token, await finishOnboarding(deps, request.params.token));
    },
  );
};
