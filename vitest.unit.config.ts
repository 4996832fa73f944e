import { defineConfig } from "vitest/config";

/**
 * The database-free unit tests of the pure modules, and nothing else: no
 * globalSetup, so no PostgreSQL or Redis. Mutation testing
 * (`npm run test:mutation`, stryker.config.json) runs these once per mutant,
 * so they must stay fast and self-contained. `npm test` still runs the same
 * files through vitest.config.ts.
 *
 * Only modules without I/O belong here. A new pure module (ranking, pricing,
 * ledger arithmetic, risk flags) joins both this list and the `mutate` list
 * of stryker.config.json. The mutation score is a figure to report, not a CI
 * gate, hence `break: null` there. Stryker's sandbox copy leaves out
 * src/generated, so these tests may import only types from the Prisma client.
 */
export const PURE_MODULE_TESTS = [
  "src/lib/ids.test.ts",
  "src/lib/money.test.ts",
  "src/lib/phone.test.ts",
  "src/lib/schedule.test.ts",
  "src/lib/tokens.test.ts",
  "src/modules/experts/expert-state.test.ts",
  "src/modules/payments/statement.test.ts",
  "src/modules/payments/pricing.test.ts",
  "src/modules/payments/connect-account.test.ts",
  "src/modules/payments/onboarding-copy.test.ts",
  "src/modules/payments/risk-flags.test.ts",
  "src/modules/payments/ledger-math.test.ts",
  "src/modules/payments/stripe-outcome.test.ts",
  "src/modules/payments/stripe-event-facts.test.ts",
  "src/modules/questions/product-match.test.ts",
  "src/modules/questions/ivr-script.test.ts",
  "src/modules/questions/sms-guards.test.ts",
  "src/modules/questions/status-page.test.ts",
  "src/modules/questions/status-view.test.ts",
  "src/modules/telephony/copy.test.ts",
  "src/modules/telephony/keywords.test.ts",
  "src/modules/telephony/message-status.test.ts",
  "src/modules/telephony/proxy-allocation.test.ts",
  "src/modules/telephony/quiet-hours.test.ts",
  "src/modules/routing/offer-text.test.ts",
  "src/modules/routing/rank.test.ts",
  "src/modules/sessions/bridge-time.test.ts",
  "src/modules/sessions/copy.test.ts",
  "src/modules/sessions/voice-copy.test.ts",
  "src/modules/webhooks/address-policy.test.ts",
  "src/modules/webhooks/backoff.test.ts",
  "src/modules/webhooks/signature.test.ts",
  "src/plugins/route-methods.test.ts",
];

export default defineConfig({
  test: {
    include: PURE_MODULE_TESTS,
    setupFiles: ["test/helpers/no-network.ts"],
    reporters: ["default"],
  },
});
