import { describe, expect, it } from "vitest";
import { onboardingLinkText, onboardingUrl, payoutReminderText } from "./onboarding-copy.js";

describe("onboarding texts", () => {
  const url = onboardingUrl("https://expertline.example", "AbC123");

  it("the link is ours, never Stripe's", () => {
    expect(url).toBe("https://expertline.example/e/onboard/AbC123");
  });

  it("greets by first name and says why, in one SMS segment", () => {
    const text = onboardingLinkText({ expertName: "  Dan Brewer ", shopName: "Grist Mill", url });
    expect(text).toBe(`Hi Dan! To get paid for your Grist Mill answers, set up payouts with Stripe (takes ~5 min): ${url}`);
    expect(text.length).toBeLessThanOrEqual(160);
  });

  it("a single name is the first name", () => {
    expect(onboardingLinkText({ expertName: "Ada", shopName: "Malt House", url })).toMatch(/^Hi Ada! To get paid for your Malt House answers/);
  });

  it("without a name, no greeting", () => {
    expect(onboardingLinkText({ expertName: "   ", shopName: "Grist Mill", url })).toBe(
      `To get paid for your Grist Mill answers, set up payouts with Stripe (takes ~5 min): ${url}`,
    );
  });

  it("the reminder says how much waits", () => {
    expect(payoutReminderText({ earned: "$12.00", url })).toBe(`You have $12.00 waiting. Finish your payout set-up to get it: ${url}`);
  });
});
