import { describe, expect, it } from "vitest";
import { DomainError } from "../../lib/problems.js";
import { canReceiveOffers, decideVetting, nextExpertStatus, type ExpertEvent } from "./expert-state.js";

describe("nextExpertStatus", () => {
  it.each([
    [{ status: "invited", phoneVerified: false }, "phone_verified", "active"],
    [{ status: "active", phoneVerified: true }, "phone_verified", "active"],
    [{ status: "invited", phoneVerified: false }, "suspend", "suspended"],
    [{ status: "active", phoneVerified: true }, "suspend", "suspended"],
    [{ status: "suspended", phoneVerified: true }, "reinstate", "active"],
    [{ status: "suspended", phoneVerified: false }, "reinstate", "invited"],
    [{ status: "active", phoneVerified: true }, "phone_changed", "invited"],
    [{ status: "invited", phoneVerified: false }, "phone_changed", "invited"],
    [{ status: "suspended", phoneVerified: true }, "phone_changed", "suspended"],
  ] as const)("%o + %s -> %s", (state, event, expected) => {
    expect(nextExpertStatus(state, event)).toBe(expected);
  });

  it.each([
    [{ status: "suspended", phoneVerified: true }, "phone_verified", "expert-suspended", "A suspended expert cannot rejoin by SMS; reinstate them first"],
    [{ status: "suspended", phoneVerified: true }, "suspend", "already-suspended", "The expert is already suspended"],
    [{ status: "active", phoneVerified: true }, "reinstate", "not-suspended", "Only a suspended expert can be reinstated"],
    [{ status: "invited", phoneVerified: false }, "reinstate", "not-suspended", "Only a suspended expert can be reinstated"],
  ] as const)("%o + %s is refused (%s) with a reason the caller can read", (state, event: ExpertEvent, code, message) => {
    expect(() => nextExpertStatus(state, event)).toThrow(expect.objectContaining({ status: 409, code, message }));
  });
});

describe("decideVetting", () => {
  it("decides a pending expert", () => {
    expect(decideVetting("pending", "approved")).toBe("approved");
    expect(decideVetting("pending", "rejected")).toBe("rejected");
  });

  it("decides only once", () => {
    expect(() => decideVetting("approved", "rejected")).toThrow(DomainError);
    expect(() => decideVetting("approved", "rejected")).toThrow(
      expect.objectContaining({
        status: 409,
        code: "vetting-decided",
        message: "The expert was already approved; vetting is decided once",
      }),
    );
    expect(() => decideVetting("rejected", "approved")).toThrow(
      expect.objectContaining({ code: "vetting-decided", message: "The expert was already rejected; vetting is decided once" }),
    );
  });
});

describe("canReceiveOffers", () => {
  it("needs active, approved and not paused", () => {
    expect(canReceiveOffers({ status: "active", vettingStatus: "approved", paused: false })).toBe(true);
    expect(canReceiveOffers({ status: "active", vettingStatus: "approved", paused: true })).toBe(false);
    expect(canReceiveOffers({ status: "active", vettingStatus: "pending", paused: false })).toBe(false);
    expect(canReceiveOffers({ status: "invited", vettingStatus: "approved", paused: false })).toBe(false);
    expect(canReceiveOffers({ status: "suspended", vettingStatus: "approved", paused: false })).toBe(false);
  });
});
