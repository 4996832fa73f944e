import { describe, expect, it } from "vitest";
import { billableSeconds, bridgeComplete, bridgeStart, CAP_WARNING_SECONDS, capSchedule, parseTwilioTimestamp, remainingCapSeconds, settleBridge } from "./bridge-time.js";

const at = (iso: string) => new Date(iso);

describe("parseTwilioTimestamp", () => {
  it("reads Twilio's RFC 2822 stamps", () => {
    expect(parseTwilioTimestamp("Tue, 01 Dec 2026 10:00:05 +0000")).toEqual(at("2026-12-01T10:00:05Z"));
    expect(parseTwilioTimestamp("Tue, 01 Dec 2026 11:00:05 +0100")).toEqual(at("2026-12-01T10:00:05Z"));
  });

  it("is null for a missing or unreadable stamp", () => {
    expect(parseTwilioTimestamp(undefined)).toBeNull();
    expect(parseTwilioTimestamp("")).toBeNull();
    expect(parseTwilioTimestamp("yesterday-ish")).toBeNull();
  });
});

describe("bridgeStart", () => {
  it("is the later of the two joins", () => {
    expect(bridgeStart(at("2026-12-01T10:00:00Z"), at("2026-12-01T10:00:31Z"))).toEqual(at("2026-12-01T10:00:31Z"));
    expect(bridgeStart(at("2026-12-01T10:00:40Z"), at("2026-12-01T10:00:31Z"))).toEqual(at("2026-12-01T10:00:40Z"));
    expect(bridgeStart(at("2026-12-01T10:00:40Z"), at("2026-12-01T10:00:40Z"))).toEqual(at("2026-12-01T10:00:40Z"));
  });

  it("is null until both are in", () => {
    expect(bridgeStart(null, at("2026-12-01T10:00:31Z"))).toBeNull();
    expect(bridgeStart(at("2026-12-01T10:00:31Z"), null)).toBeNull();
    expect(bridgeStart(null, null)).toBeNull();
  });
});

describe("billableSeconds", () => {
  it("counts whole seconds from the bridge to the first leave", () => {
    expect(billableSeconds(at("2026-12-01T10:00:00Z"), at("2026-12-01T10:01:35Z"))).toBe(95);
    expect(billableSeconds(at("2026-12-01T10:00:00Z"), at("2026-12-01T10:00:00.999Z"))).toBe(0);
    expect(billableSeconds(at("2026-12-01T10:00:00Z"), at("2026-12-01T10:00:01.999Z"))).toBe(1);
  });

  it("is nothing for a call that never bridged, or a leave stamped before the bridge", () => {
    expect(billableSeconds(null, at("2026-12-01T10:01:35Z"))).toBe(0);
    expect(billableSeconds(at("2026-12-01T10:00:10Z"), at("2026-12-01T10:00:00Z"))).toBe(0);
  });
});

describe("the call-time cap", () => {
  it("leaves what earlier calls of the session did not use", () => {
    expect(remainingCapSeconds(3600, 0)).toBe(3600);
    expect(remainingCapSeconds(3600, 600)).toBe(3000);
    expect(remainingCapSeconds(3600, 4000)).toBe(0);
  });

  it("warns a minute before the end, counted from the bridge", () => {
    const bridged = at("2026-12-01T10:00:00Z");
    expect(capSchedule(bridged, 3600)).toEqual({ warnAt: at("2026-12-01T10:59:00Z"), endAt: at("2026-12-01T11:00:00Z") });
    expect(CAP_WARNING_SECONDS).toBe(60);
  });

  it("gives no warning when a minute or less is left at the start", () => {
    const bridged = at("2026-12-01T10:00:00Z");
    expect(capSchedule(bridged, 60)).toEqual({ warnAt: null, endAt: at("2026-12-01T10:01:00Z") });
    expect(capSchedule(bridged, 61)).toEqual({ warnAt: at("2026-12-01T10:00:01Z"), endAt: at("2026-12-01T10:01:01Z") });
    expect(capSchedule(bridged, 0)).toEqual({ warnAt: null, endAt: bridged });
  });
});

describe("settling a bridge from callbacks in any order", () => {
  const none = { expertJoinedAt: null, customerJoinedAt: null, expertLeftAt: null, customerLeftAt: null, conferenceEndedAt: null };
  const t = (seconds: number) => new Date(Date.UTC(2026, 11, 1, 10, 0, seconds));

  it("is complete once the conference ended or both left, and every leave has its join", () => {
    expect(bridgeComplete(none)).toBe(false);
    expect(bridgeComplete({ ...none, expertJoinedAt: t(0), customerJoinedAt: t(5), customerLeftAt: t(50) })).toBe(false);
    expect(bridgeComplete({ ...none, expertJoinedAt: t(0), customerJoinedAt: t(5), customerLeftAt: t(50), conferenceEndedAt: t(50) })).toBe(true);
    expect(bridgeComplete({ ...none, expertJoinedAt: t(0), customerJoinedAt: t(5), customerLeftAt: t(50), expertLeftAt: t(50) })).toBe(true);
    // The customer's join callback is late: wait for it.
    expect(bridgeComplete({ ...none, expertJoinedAt: t(0), customerLeftAt: t(50), conferenceEndedAt: t(50) })).toBe(false);
    expect(bridgeComplete({ ...none, customerJoinedAt: t(0), expertLeftAt: t(50), conferenceEndedAt: t(50) })).toBe(false);
    // Only the expert was ever in: nothing to wait for.
    expect(bridgeComplete({ ...none, expertJoinedAt: t(0), expertLeftAt: t(40), conferenceEndedAt: t(40) })).toBe(true);
  });

  it("bills from the later join to the first leave", () => {
    const sameSecond = { ...none, expertJoinedAt: t(0), customerJoinedAt: t(5), customerLeftAt: t(100), expertLeftAt: t(100), conferenceEndedAt: t(100) };
    // All in one second: Twilio's CallSidEndingConference says who hung up.
    expect(settleBridge(sameSecond, t(59), "expert").endedBy).toBe("expert");
    expect(settleBridge({ ...sameSecond, customerLeftAt: null }, t(59)).endedBy).toBe("expert");
    expect(settleBridge({ ...sameSecond, customerLeftAt: null, expertLeftAt: null }, t(59)).endedBy).toBe("conference");
    expect(settleBridge(sameSecond, t(59), "customer")).toEqual({
      bridgedAt: t(5),
      endedAt: t(100),
      endedBy: "customer",
      billableSeconds: 95,
    });
    expect(settleBridge({ ...none, expertJoinedAt: t(3), customerJoinedAt: t(1), expertLeftAt: t(45), customerLeftAt: t(46) }, t(59))).toEqual({
      bridgedAt: t(3),
      endedAt: t(45),
      endedBy: "expert",
      billableSeconds: 42,
    });
  });

  it("takes the conference's end when it came first (ended through the API)", () => {
    expect(settleBridge({ ...none, expertJoinedAt: t(0), customerJoinedAt: t(0), conferenceEndedAt: t(30), expertLeftAt: t(31) }, t(59))).toMatchObject({
      endedAt: t(30),
      endedBy: "conference",
      billableSeconds: 30,
    });
  });

  it("bills nothing when one side never joined, or left before the other arrived", () => {
    expect(settleBridge({ ...none, expertJoinedAt: t(0), expertLeftAt: t(40), conferenceEndedAt: t(40) }, t(59))).toEqual({
      bridgedAt: null,
      endedAt: t(40),
      endedBy: "expert",
      billableSeconds: 0,
    });
    expect(settleBridge({ ...none, expertJoinedAt: t(0), expertLeftAt: t(10), customerJoinedAt: t(20), customerLeftAt: t(30) }, t(59))).toMatchObject({
      bridgedAt: null,
      billableSeconds: 0,
    });
    expect(settleBridge(none, t(59))).toEqual({ bridgedAt: null, endedAt: t(59), endedBy: "conference", billableSeconds: 0 });
  });
});
