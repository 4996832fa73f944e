import { describe, expect, it } from "vitest";
import { copy, inviteText, statusText } from "./copy.js";

describe("SMS copy", () => {
  it("invites with who, what, pay and how to answer or stop", () => {
    const text = inviteText({ shopName: "Brew Barn", expertName: "Dan", tags: ["all-grain", "mash", "hops", "yeast"] });
    expect(text).toBe(
      "Hi Dan! Brew Barn invites you to answer customers' questions about all-grain, mash, hops by text or call, " +
        "and you get paid for each one. Reply YES to join, STOP to opt out.",
    );
    expect(inviteText({ shopName: "Brew Barn", expertName: "Dan", tags: [] })).toContain("answer customers' questions by text");
  });

  it.each([
    ["invited", false, "Not joined yet (reply YES to join)"],
    ["active", false, "Available (reply OFF to pause)"],
    ["active", true, "Paused (reply ON)"],
    ["suspended", false, "Suspended by the shop"],
  ] as const)("status for %s (paused %s) starts with %s", (status, paused, start) => {
    expect(statusText({ status, paused, openOffers: 2, openSessions: 1, earnedThisWeek: "$15.00" })).toBe(
      `${start}. Open offers: 2. Conversations: 1. Earned this week: $15.00.`,
    );
  });

  it("HELP carries the CTIA fields", () => {
    const help = copy.help({ shopName: "Brew Barn", contact: "help@example.com" });
    for (const field of ["Brew Barn", "help@example.com", "Msg frequency varies", "Msg&data rates may apply", "STOP"]) {
      expect(help).toContain(field);
    }
  });
});
