import { describe, expect, it } from "vitest";
import { billableSeconds, bridgeStart, CAP_WARNING_SECONDS, capSchedule, parseTwilioTimestamp, remainingCapSeconds } from "./bridge-time.js";

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
