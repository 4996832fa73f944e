import { describe, expect, it } from "vitest";
import type { QuestionStatus } from "../../generated/prisma/enums.js";
import {
  EVENTS_SHOWN,
  buildStatusView,
  expertFor,
  formatDuration,
  type StatusEvent,
  type StatusQuestion,
  type StatusViewInput,
  type StepState,
  toStatusJson,
} from "./status-view.js";

const ASKED = new Date("2026-12-02T10:00:00.000Z");
const at = (minutes: number) => new Date(ASKED.getTime() + minutes * 60_000);
const event = (kind: string, minutes: number, data: unknown = {}): StatusEvent => ({ kind, data, createdAt: at(minutes) });

function input(status: QuestionStatus, events: StatusEvent[], fields: Partial<StatusQuestion> & { now?: number } = {}): StatusViewInput {
  const { now = 12, ...question } = fields;
  return {
    question: { status, createdAt: ASKED, closedAt: null, preferredMode: "sms", ...question },
    productName: "Grainfather G30",
    shopName: "Brew Barn",
    events,
    now: at(now),
  };
}

const dan = { expertFirstName: "Dan" };
const searching = [event("received", 0), event("searching", 1, { estimateMinutes: 15 })];
const accepted = [...searching, event("offered", 2), event("accepted", 3, dan)];
const talking = [...accepted, event("session_started", 4, dan)];
const ended = [...talking, event("session_ended", 20, { ...dan, endedBy: "customer" })];

const states = (view: ReturnType<typeof buildStatusView>) => view.steps.map((step) => step.state);

describe("buildStatusView", () => {
  it.each<[QuestionStatus, StatusEvent[], string, string, StepState[]]>([
    [
      "received",
      [event("received", 0)],
      "We've got your question",
      "We're finding the right experts for it now.",
      ["current", "upcoming", "upcoming", "upcoming", "upcoming"],
    ],
    [
      "routing",
      searching,
      "Looking for a Grainfather G30 expert",
      "We're texting experts now; most questions are picked up within 15 minutes.",
      ["done", "current", "upcoming", "upcoming", "upcoming"],
    ],
    [
      "offered",
      searching,
      "Looking for a Grainfather G30 expert",
      "We're texting experts now; most questions are picked up within 15 minutes.",
      ["done", "current", "upcoming", "upcoming", "upcoming"],
    ],
    ["matched", accepted, "Dan accepted and will text you", "Reply to Dan's texts on your phone.", ["done", "done", "current", "upcoming", "upcoming"]],
    [
      "in_session",
      talking,
      "In conversation with Dan",
      "Reply to Dan's texts on your phone. Text DONE when you're finished.",
      ["done", "done", "done", "current", "upcoming"],
    ],
    ["answered", ended, "Answered", "Have another question? Ask again any time.", ["done", "done", "done", "done", "done"]],
    [
      "expired",
      [...searching, event("expired", 30)],
      "No expert was free in time",
      "This question expired: nobody was free in time. Ask again any time.",
      ["done", "done", "skipped", "skipped", "skipped"],
    ],
    [
      "cancelled",
      [event("received", 0), event("cancelled", 2)],
      "Question cancelled",
      "This question was cancelled, so nobody will contact you about it. Ask again any time.",
      ["done", "skipped", "skipped", "skipped", "skipped"],
    ],
  ])("%s: headline, next step and timeline", (status, events, headline, next, expected) => {
    const view = buildStatusView(input(status, events));
    expect(view.status).toBe(status);
    expect(view.headline).toBe(headline);
    expect(view.next).toBe(next);
    expect(states(view)).toEqual(expected);
    expect(view.steps.map((step) => step.key)).toEqual(["received", "searching", "accepted", "in_conversation", "answered"]);
    expect(view.open).toBe(!["answered", "expired", "cancelled"].includes(status));
    expect(view.shopName).toBe("Brew Barn");
    expect(view.productName).toBe("Grainfather G30");
    expect(view.askedAt).toEqual(ASKED);
    expect(view.asOf).toEqual(at(12));
  });

  it.each<[QuestionStatus, StatusEvent[], string | null]>([
    ["received", [event("received", 0)], null],
    ["routing", searching, null],
    ["matched", accepted, "Dan"],
    ["in_session", talking, "Dan"],
    ["answered", ended, "Dan"],
    ["expired", [...searching, event("expired", 30)], null],
    // Cancelled after Dan accepted: he was part of it, so the page still names him.
    ["cancelled", [...accepted, event("cancelled", 5)], "Dan"],
  ])("%s: the expert is named only once one accepted", (status, events, firstName) => {
    const view = buildStatusView(input(status, events));
    expect(view.expert).toEqual(firstName ? { firstName } : null);
    expect(view.steps[2]?.label).toBe(firstName ? `${firstName} accepted` : "An expert accepted");
  });

  it("labels every step for people", () => {
    expect(buildStatusView(input("answered", ended)).steps.map((step) => step.label)).toEqual([
      "Received",
      "Looking for an expert",
      "Dan accepted",
      "In conversation",
      "Answered",
    ]);
  });

  it("dates the steps reached: the search's start, the latest acceptance and conversation, the closing", () => {
    const rerouted = [
      event("received", 0),
      event("searching", 1),
      event("widened", 6),
      event("accepted", 7, { expertFirstName: "Ann" }),
      event("searching", 9),
      event("accepted", 11, dan),
      event("session_started", 12, dan),
      event("session_ended", 30, dan),
    ];
    const view = buildStatusView(input("answered", rerouted, { closedAt: at(31), now: 60 }));
    expect(view.steps.map((step) => step.at)).toEqual([ASKED, at(1), at(11), at(12), at(31)]);
    expect(view.expert).toEqual({ firstName: "Dan" });
    // Without closedAt the answer dates from the conversation's end.
    expect(buildStatusView(input("answered", rerouted, { now: 60 })).steps[4]?.at).toEqual(at(30));
    expect(buildStatusView(input("answered", [], { now: 60 })).steps[4]?.at).toBeNull();
  });

  it("gives no time to steps not reached, and none it does not know", () => {
    const view = buildStatusView(input("routing", searching));
    expect(view.steps.map((step) => step.at)).toEqual([ASKED, at(1), null, null, null]);
    // Matched with no recorded events: done and current, but no invented times.
    const bare = buildStatusView(input("matched", []));
    expect(bare.steps.map((step) => step.at)).toEqual([ASKED, null, null, null, null]);
    expect(bare.headline).toBe("Your expert accepted and will text you");
    expect(bare.next).toBe("Reply to your expert's texts on your phone.");
    // A question sent back to routing after an acceptance is searching again: no expert, no accepted time.
    const rerouted = buildStatusView(input("routing", [...accepted, event("searching", 5)]));
    expect(rerouted.expert).toBeNull();
    expect(rerouted.steps.map((step) => step.at)).toEqual([ASKED, at(1), null, null, null]);
  });

  it("orders events by time whatever order they come in", () => {
    const view = buildStatusView(input("matched", [event("accepted", 8, dan), event("accepted", 3, { expertFirstName: "Ann" }), event("searching", 1)]));
    expect(view.expert).toEqual({ firstName: "Dan" });
    expect(view.steps[2]?.at).toEqual(at(8));
  });

  it.each([
    ["no estimate", [event("searching", 1)], 5, "We're texting experts now and will text you as soon as one accepts."],
    ["one minute", [event("searching", 1, { estimateMinutes: 1 })], 1, "We're texting experts now; most questions are picked up within 1 minute."],
    ["a fraction rounds up", [event("searching", 1, { estimateMinutes: 4.2 })], 2, "We're texting experts now; most questions are picked up within 5 minutes."],
    ["the latest estimate", [event("searching", 1, { estimateMinutes: 5 }), event("widened", 4, { estimateMinutes: 20 })], 6, "most questions are picked up within 20 minutes."],
    ["a widening without estimate", [event("searching", 1, { estimateMinutes: 5 }), event("widened", 4)], 6, "We're texting experts now and will text you as soon as one accepts."],
    ["exactly at the estimate", [event("searching", 1, { estimateMinutes: 10 })], 11, "most questions are picked up within 10 minutes."],
    [
      "past the estimate",
      [event("searching", 1, { estimateMinutes: 10 })],
      11.1,
      "It's taking longer than usual. We're still asking experts and will text you as soon as one accepts.",
    ],
    [
      "nobody yet, with an estimate",
      [event("searching", 1), event("no_expert_yet", 6, { estimateMinutes: 30 })],
      7,
      "No expert was free yet; we're asking more of them. Someone may be free within about 30 minutes. We'll text you as soon as one accepts.",
    ],
    [
      "nobody yet, without one",
      [event("searching", 1), event("no_expert_yet", 6, {})],
      7,
      "No expert was free yet; we're asking more of them. We'll text you as soon as one accepts.",
    ],
    ["no search event at all", [], 7, "We're texting experts now and will text you as soon as one accepts."],
  ])("searching: %s", (_, events, now, next) => {
    expect(buildStatusView(input("routing", events, { now })).next).toContain(next);
  });

  it.each([
    ["a negative estimate", -5],
    ["zero", 0],
    ["a string", "10"],
    ["more than a day", 24 * 60 + 1],
    ["not a number", Number.NaN],
  ])("ignores %s as an estimate", (_, estimateMinutes) => {
    expect(buildStatusView(input("routing", [event("searching", 1, { estimateMinutes })])).next).toBe(
      "We're texting experts now and will text you as soon as one accepts.",
    );
  });

  it("takes a full day as an estimate", () => {
    expect(buildStatusView(input("routing", [event("searching", 1, { estimateMinutes: 1440 })])).next).toContain("within 1440 minutes");
  });

  it.each([
    ["a phone number", "+14155550123"],
    ["a name with a phone number", "Dan 415 555 0123"],
    ["digits", "Dan2"],
    ["an empty string", "   "],
    ["markup", "<b>Dan</b>"],
    ["a number", 42],
    ["null", null],
    ["too long a name", "D".repeat(41)],
  ])("does not show %s as the expert's name", (_, expertFirstName) => {
    const view = buildStatusView(input("matched", [event("accepted", 3, { expertFirstName })]));
    expect(view.expert).toBeNull();
    expect(view.headline).toBe("Your expert accepted and will text you");
    const json = JSON.stringify(toStatusJson(view));
    expect(json).not.toContain("555");
    if (typeof expertFirstName === "string" && expertFirstName.trim()) expect(json).not.toContain(expertFirstName);
  });

  it.each([
    ["Anne-Marie", "Anne-Marie"],
    ["O'Neil", "O'Neil"],
    ["  José   Luis ", "José Luis"],
    ["Zoë", "Zoë"],
    ["J.R.", "J.R."],
    ["D".repeat(40), "D".repeat(40)],
  ])("shows the name %j as %j", (given, shown) => {
    expect(buildStatusView(input("matched", [event("accepted", 3, { expertFirstName: given })])).expert).toEqual({ firstName: shown });
  });

  it("reads names from the conversation's events too, and skips events with a bad one", () => {
    const events = [event("accepted", 3, dan), event("session_started", 4, { expertFirstName: "+14155550123" })];
    expect(buildStatusView(input("in_session", events)).expert).toEqual({ firstName: "Dan" });
    expect(buildStatusView(input("answered", [event("rated", 30, { expertFirstName: "Ann", score: 5 })])).expert).toEqual({ firstName: "Ann" });
    expect(buildStatusView(input("in_session", [event("accepted", 3), event("session_started", 4, dan)])).expert).toEqual({ firstName: "Dan" });
    expect(buildStatusView(input("answered", [event("accepted", 3), event("session_ended", 9, dan)])).expert).toEqual({ firstName: "Dan" });
    // A name in an event this page does not read about experts is not one.
    expect(buildStatusView(input("matched", [event("searching", 1, dan)])).expert).toBeNull();
  });

  it("ignores unknown events and unknown fields", () => {
    const events = [
      event("received", 0, { customerPhone: "+14155550123" }),
      event("searching", 1, { estimateMinutes: 15, phone: "+14155550123" }),
      event("something_new", 2, { expertFirstName: "Eve" }),
      event("accepted", 3, { expertFirstName: "Dan", expertPhone: "+14155550199" }),
    ];
    const view = buildStatusView(input("matched", events));
    expect(view.expert).toEqual({ firstName: "Dan" });
    expect(JSON.stringify(toStatusJson(view))).not.toContain("555");
  });

  it("asks for the product while the customer has not chosen one", () => {
    const asked = buildStatusView(input("received", [event("received", 0), event("product_asked", 0)]));
    expect(asked.headline).toBe("Which product is it about?");
    expect(asked.next).toBe("Reply to our text with the product you mean, so we can find the right expert.");
    const chosen = buildStatusView(input("received", [event("product_asked", 0), event("product_chosen", 1)]));
    expect(chosen.headline).toBe("We've got your question");
  });

  it("without a product, looks for an expert", () => {
    expect(buildStatusView({ ...input("routing", searching), productName: null }).headline).toBe("Looking for an expert");
    expect(buildStatusView({ ...input("routing", searching), productName: "Anvil Foundry" }).headline).toBe("Looking for an Anvil Foundry expert");
  });

  it.each<[QuestionStatus, string, string]>([
    ["matched", "Dan accepted and will call you", "Dan will call you from our number soon; pick up when your phone rings."],
    ["in_session", "On the phone with Dan", "Hang up when you're done; we'll text you after."],
  ])("by voice, %s", (status, headline, next) => {
    const view = buildStatusView(input(status, talking, { preferredMode: "voice" }));
    expect([view.headline, view.next]).toEqual([headline, next]);
  });

  it("by voice, without a name", () => {
    const view = buildStatusView(input("matched", [], { preferredMode: "voice" }));
    expect(view.headline).toBe("Your expert accepted and will call you");
    expect(view.next).toBe("Your expert will call you from our number soon; pick up when your phone rings.");
    expect(buildStatusView(input("in_session", [], { preferredMode: "voice" })).headline).toBe("On the phone with your expert");
    expect(buildStatusView(input("in_session", [])).headline).toBe("In conversation with your expert");
  });

  it("counts time from the question to now while open, to the closing once closed", () => {
    expect(buildStatusView(input("routing", searching, { now: 12 })).elapsed).toEqual({ seconds: 720, text: "12 min" });
    expect(buildStatusView(input("answered", ended, { closedAt: at(25), now: 600 })).elapsed).toEqual({ seconds: 1500, text: "25 min" });
    // A clock a little behind the database never shows negative time.
    expect(buildStatusView(input("received", [], { now: -1 })).elapsed).toEqual({ seconds: 0, text: "under a minute" });
  });

  it("closes expired and cancelled questions with their reason and time", () => {
    const expired = buildStatusView(input("expired", [...searching, event("expired", 30)], { closedAt: at(31), now: 90 }));
    expect(expired.closed).toEqual({ reason: "expired", at: at(31) });
    expect(expired.elapsed.seconds).toBe(31 * 60);
    // Without closedAt, the last event says when it closed.
    const cancelled = buildStatusView(input("cancelled", [event("received", 0), event("searching", 1), event("cancelled", 4)], { now: 90 }));
    expect(cancelled.closed).toEqual({ reason: "cancelled", at: at(4) });
    expect(cancelled.elapsed.seconds).toBe(4 * 60);
    expect(buildStatusView(input("cancelled", [], { now: 90 })).closed).toEqual({ reason: "cancelled", at: null });
    expect(buildStatusView(input("cancelled", [], { now: 90 })).elapsed.seconds).toBe(90 * 60);
    expect(buildStatusView(input("answered", ended, { closedAt: at(25) })).closed).toBeNull();
    expect(buildStatusView(input("routing", searching)).closed).toBeNull();
    // An open question is open whatever its last event says.
    expect(buildStatusView(input("routing", [event("expired", 2)])).elapsed.seconds).toBe(12 * 60);
  });

  it("a closed question's steps show how far it got", () => {
    const afterTalking = buildStatusView(input("cancelled", [...talking, event("cancelled", 6)]));
    expect(states(afterTalking)).toEqual(["done", "done", "done", "done", "skipped"]);
    expect(afterTalking.steps.map((step) => step.at)).toEqual([ASKED, at(1), at(3), at(4), null]);
    const afterEnd = buildStatusView(input("expired", [event("session_ended", 6, dan)]));
    expect(states(afterEnd)).toEqual(["done", "done", "done", "done", "skipped"]);
    const afterRating = buildStatusView(input("cancelled", [event("rated", 6, dan), event("received", 0)]));
    expect(states(afterRating)).toEqual(["done", "done", "done", "done", "skipped"]);
    const afterWidening = buildStatusView(input("expired", [event("widened", 6)]));
    expect(states(afterWidening)).toEqual(["done", "done", "skipped", "skipped", "skipped"]);
    const afterNobody = buildStatusView(input("expired", [event("no_expert_yet", 6)]));
    expect(states(afterNobody)).toEqual(["done", "done", "skipped", "skipped", "skipped"]);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "under a minute"],
    [59, "under a minute"],
    [60, "1 min"],
    [119, "1 min"],
    [720, "12 min"],
    [3599, "59 min"],
    [3600, "1 h"],
    [3659, "1 h"],
    [3660, "1 h 1 min"],
    [7500, "2 h 5 min"],
    [86_399, "23 h 59 min"],
    [86_400, "1 day"],
    [90_000, "1 day 1 h"],
    [172_800, "2 days"],
    [183_600, "2 days 3 h"],
  ])("%i s is %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe("expertFor", () => {
  it.each([
    ["Grainfather G30", "a Grainfather G30 expert"],
    ["Anvil Foundry", "an Anvil Foundry expert"],
    ["espresso machine", "an espresso machine expert"],
    ["iSpindel", "an iSpindel expert"],
    ["Ozone kit", "an Ozone kit expert"],
    ["Unitank", "an Unitank expert"],
    ["Brewzilla", "a Brewzilla expert"],
  ])("%s", (product, text) => {
    expect(expertFor(product)).toBe(text);
  });
});

describe("toStatusJson", () => {
  it("writes dates as ISO 8601 and keeps everything else", () => {
    const view = buildStatusView(input("expired", [...searching, event("expired", 30)], { closedAt: at(31) }));
    const json = toStatusJson(view);
    expect(json.askedAt).toBe("2026-12-02T10:00:00.000Z");
    expect(json.asOf).toBe("2026-12-02T10:12:00.000Z");
    expect(json.closed).toEqual({ reason: "expired", at: "2026-12-02T10:31:00.000Z" });
    expect(json.steps.map((step) => step.at)).toEqual(["2026-12-02T10:00:00.000Z", "2026-12-02T10:01:00.000Z", null, null, null]);
    expect(json.steps[0]).toEqual({ key: "received", label: "Received", at: "2026-12-02T10:00:00.000Z", state: "done" });
    expect(json).toMatchObject({ status: "expired", open: false, headline: view.headline, next: view.next, elapsed: view.elapsed, expert: null });
    expect(toStatusJson(buildStatusView(input("cancelled", []))).closed).toEqual({ reason: "cancelled", at: null });
    expect(toStatusJson(buildStatusView(input("routing", searching))).closed).toBeNull();
  });
});

describe("EVENTS_SHOWN", () => {
  it("is every timeline kind but the experts' own (offers, declines, time-outs), in the timeline's order", () => {
    expect(EVENTS_SHOWN).toEqual([
      "received",
      "product_asked",
      "product_chosen",
      "searching",
      "widened",
      "no_expert_yet",
      "accepted",
      "session_started",
      "session_ended",
      "rated",
      "expired",
      "cancelled",
    ]);
  });
});
