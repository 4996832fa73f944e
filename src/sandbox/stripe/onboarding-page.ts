/**
 * The sandbox's stand-in for Stripe's hosted onboarding. An account link's
 * URL is single-use (fact sheet §1): the first visit spends it, and a spent
 * or expired link sends the browser to `refresh_url`, where the platform mints
 * a new one. The form either completes onboarding or "saves for later"; both
 * return to `return_url` with no state, as Stripe does ("return_url proves
 * nothing").
 */
import type { FastifyInstance } from "fastify";
import formbody from "@fastify/formbody";
import { unixSeconds } from "./clock.js";
import type { StripeSandboxState } from "./state.js";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export async function registerOnboardingPage(app: FastifyInstance, { state }: { state: StripeSandboxState }) {
  await app.register(async (pages) => {
    await pages.register(formbody);

    pages.get<{ Params: { linkId: string } }>("/sandbox/stripe/onboard/:linkId", async (request, reply) => {
      const link = state.accountLinks.get(request.params.linkId);
      if (!link) return reply.code(404).type("text/plain; charset=utf-8").send("This onboarding link does not exist.");
      if (link.visited || unixSeconds(state.clock) >= link.expiresAt) {
        state.log("account-link-refreshed", { account: link.account, reason: link.visited ? "used" : "expired" });
        return reply.redirect(link.refreshUrl, 302);
      }
      link.visited = true;
      state.log("account-link-visited", { account: link.account });
      const id = escapeHtml(link.id);
      return reply.type("text/html; charset=utf-8").send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Stripe sandbox: onboarding</title></head>
<body>
<h1>Onboarding for ${escapeHtml(link.account)}</h1>
<p>The Stripe sandbox stands in for Stripe's hosted onboarding.</p>
<form method="post" action="/sandbox/stripe/onboard/${id}">
<button name="action" value="complete">Complete onboarding</button>
<button name="action" value="later">Save for later</button>
</form>
</body></html>`);
    });

    pages.post<{ Params: { linkId: string }; Body: { action?: string } }>("/sandbox/stripe/onboard/:linkId", async (request, reply) => {
      const link = state.accountLinks.get(request.params.linkId);
      if (!link) return reply.code(404).type("text/plain; charset=utf-8").send("This onboarding link does not exist.");
      // Only the visit that spent the link may finish it, once.
      if (!link.visited || link.finished) return reply.redirect(link.refreshUrl, 303);
      link.finished = true;
      if (request.body?.action === "complete") state.completeOnboarding(link.account);
      else state.log("onboarding-saved-for-later", { account: link.account });
      return reply.redirect(link.returnUrl, 303);
    });
  });
}
