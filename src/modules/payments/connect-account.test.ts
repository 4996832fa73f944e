import { describe, expect, it } from "vitest";
import { accountState, expertIdOf, fromUnixSeconds, stateTime } from "./connect-account.js";

describe("accountState", () => {
  it("reads payouts, details, the disabled reason and what is due (currently_due then past_due, each once)", () => {
    expect(
      accountState({
        id: "acct_1",
        payouts_enabled: true,
        details_submitted: true,
        requirements: { currently_due: ["a", "b"], past_due: ["b", "c"], disabled_reason: "requirements.past_due" },
      }),
    ).toEqual({ payoutsEnabled: true, detailsSubmitted: true, disabledReason: "requirements.past_due", requirementsDue: ["a", "b", "c"] });
  });

  it("a fresh account: nothing enabled", () => {
    expect(accountState({ id: "acct_1", payouts_enabled: false, details_submitted: false, requirements: { currently_due: ["x"], past_due: [], disabled_reason: null } })).toEqual({
      payoutsEnabled: false,
      detailsSubmitted: false,
      disabledReason: null,
      requirementsDue: ["x"],
    });
  });

  it("missing or null fields are the safe values", () => {
    expect(accountState({ id: "acct_1" })).toEqual({ payoutsEnabled: false, detailsSubmitted: false, disabledReason: null, requirementsDue: [] });
    expect(accountState({ id: "acct_1", payouts_enabled: null, details_submitted: null, requirements: null })).toEqual({
      payoutsEnabled: false,
      detailsSubmitted: false,
      disabledReason: null,
      requirementsDue: [],
    });
    expect(accountState({ id: "acct_1", requirements: { currently_due: null, past_due: ["p"] } }).requirementsDue).toEqual(["p"]);
    expect(accountState({ id: "acct_1", requirements: { currently_due: ["c"], past_due: null } }).requirementsDue).toEqual(["c"]);
  });
});

describe("time of a state", () => {
  it("floors to whole seconds, as Stripe stamps events", () => {
    expect(stateTime(new Date("2026-01-01T10:00:00.999Z")).toISOString()).toBe("2026-01-01T10:00:00.000Z");
    expect(stateTime(new Date("2026-01-01T10:00:01.000Z")).toISOString()).toBe("2026-01-01T10:00:01.000Z");
    expect(fromUnixSeconds(1_767_261_600).toISOString()).toBe("2026-01-01T10:00:00.000Z");
  });
});

describe("expertIdOf", () => {
  it("reads a UUID from the metadata, and nothing else", () => {
    const id = "01890a5d-ac96-774b-bcce-b302099a8057";
    expect(expertIdOf({ id: "acct_1", metadata: { expertId: id } })).toBe(id);
    expect(expertIdOf({ id: "acct_1", metadata: { expertId: id.toUpperCase() } })).toBe(id.toUpperCase());
    expect(expertIdOf({ id: "acct_1", metadata: { expertId: `x${id}` } })).toBeNull();
    expect(expertIdOf({ id: "acct_1", metadata: { expertId: `${id}x` } })).toBeNull();
    expect(expertIdOf({ id: "acct_1", metadata: { other: id } })).toBeNull();
    expect(expertIdOf({ id: "acct_1", metadata: null })).toBeNull();
    // Not a string, even one that prints as a UUID (metadata from JSON is untyped).
    expect(expertIdOf({ id: "acct_1", metadata: { expertId: { toString: () => id } as unknown as string } })).toBeNull();
    expect(expertIdOf({ id: "acct_1" })).toBeNull();
  });
});
