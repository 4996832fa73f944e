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
import { escapeHtml, originOf, sendPage } from "./html.js";
import type { StripeSandboxState } from "./state.js";

export async function registerOnboardingPage(app: FastifyInstance, { state }: { state: StripeSandboxState }) {
  await app.register(async (pages) => {
    await pages.register(formbody);

    pages.get<{ Params: { linkId: string } }>("/sandbox/stripe/onboard/:linkId", async (request, reply) => {
      const link = state.accountLinks.get(request.params.linkId);
      if (!link) return sendPage(reply, "Stripe sandbox: no such link", "<h1>This onboarding link does not exist.</h1>", { status: 404 });
      if (link.visited || unixSeconds(state.clock) >= link.expiresAt) {
        state.log("account-link-refreshed", { account: link.account, reason: link.visited ? "used" : "expired" });
        return reply.redirect(link.refreshUrl, 302);
      }
      link.visited = true;
      state.log("account-link-visited", { account: link.account });
      state.changed();
      const account = state.accounts.get(link.account);
      return sendPage(
        reply,
        "Stripe sandbox: onboarding",
        `<h1>Onboarding for <code>${escapeHtml(link.account)}</code></h1>
<p>The Stripe sandbox stands in for Stripe's hosted onboarding${account?.email ? ` of ${escapeHtml(account.email)}` : ""}.
"Complete onboarding" submits the details Stripe would collect: payouts and transfers become enabled and the platform
receives a signed <code>account.updated</code>. "Save for later" changes nothing. Both go back to the platform's return URL.</p>
<form method="post" action="/sandbox/stripe/onboard/${escapeHtml(link.id)}">
<button name="action" value="complete">Complete onboarding</button>
<button name="action" value="later">Save for later</button>
</form>`,
        // The answer to this form redirects to the platform's URLs.
        { formTargets: [...new Set([...originOf(link.returnUrl), ...originOf(link.refreshUrl)])] },
      );
    });

    pages.post<{ Params: { linkId: string }; Body: { action?: string } }>("/sandbox/stripe/onboard/:linkId", async (request, reply) => {
      const link = state.accountLinks.get(request.params.linkId);
      if (!link) return sendPage(reply, "Stripe sandbox: no such link", "<h1>This onboarding link does not exist.</h1>", { status: 404 });
      // Only the visit that spent the link may finish it, once.
      if (!link.visited || link.finished) return reply.redirect(link.refreshUrl, 303);
      link.finished = true;
      if (request.body?.action === "complete") state.completeOnboarding(link.account);
      else state.log("onboarding-saved-for-later", { account: link.account });
      state.changed();
      return reply.redirect(link.returnUrl, 303);
    });
  });
}
