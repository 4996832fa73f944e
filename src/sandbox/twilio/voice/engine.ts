/**
 * Twilio Programmable Voice, simulated: runs calls and their TwiML against the
 * app's webhooks, in virtual time (rings, pauses and talk time never wait).
 *
 * Behaviour follows shared/providers/twilio.md §3 (Voice), §4 (TwiML), §6
 * (errors), §9 (SIDs). Where the sheet is silent or says UNCONFIRMED, the
 * choice made here is marked "UNCONFIRMED" with the reason for it.
 *
 * Time: every call leg has its own virtual offset from `clock.now()`. Ringing,
 * <Pause>, <Gather> timeouts, <Record> and talk time move that offset; <Say>
 * and <Play> take no virtual time (the sandbox has no audio lengths). Legs
 * that meet (a bridge) are brought to the later of their two times.
 *
 * Concurrency: each leg's background work is one serialised promise chain.
 * A leg that waits for the outside world (bridged, in a conference, or
 * looping audio forever) parks its program on a promise and stops counting as
 * busy, so `idle()` resolves; `hangup()`/`updateCall()` wake it up.
 *
 * Conferences (<Dial><Conference>, twilio.com/docs/voice/twiml/conference):
 * a room has its own clock, the latest moment any of its events happened; a
 * leg joining is brought to it, as bridged legs are. Everything that happens
 * to a room (joins, leaves, its start and end, Dial time limits running out)
 * is decided synchronously in one place (`leaveConference`, `endConference`),
 * so its status callbacks get their SequenceNumbers in the order the events
 * happened, and they are delivered one after the other on the room's own
 * promise chain. A member's program only learns afterwards why it left.
 */
import type { Clock } from "../clock.js";
import { newSid, rfc2822 } from "../sids.js";
import {
  conferenceEvents,
  conferenceResource,
  selectConferences,
  type ConferenceEndReason,
  type ConferenceFilters,
  type ConferenceRecord,
  type ConferenceResource,
} from "./conferences.js";
import { interpretAnswer, type TwimlNode } from "./twiml.js";

export interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

export interface CallHost {
  accountSid: string;
  clock: Clock;
  /** Sends a signed webhook to the app (the host signs it like Twilio) and returns the answer. */
  request(url: string, method: "GET" | "POST", params: Record<string, string>): Promise<HttpAnswer>;
  /** How the simulated phone at `number` treats an incoming call. Undefined: the number is not a simulated phone -> the call fails (status "failed"). */
  behaviorOf(number: string): PhoneBehavior | undefined;
  /** Numbers the platform owns (calls TO these numbers are inbound to the app; the host resolves their voice URL). */
  voiceUrlOf(number: string): { url: string; method: "GET" | "POST"; statusCallback?: string } | undefined;
  /** Everything that happens, for the sandbox UI and tests. */
  log(event: CallEvent): void;
}

export interface PhoneBehavior {
  answer: "answer" | "busy" | "no-answer" | "fail";
  /** Input for successive <Gather> verbs executed on this phone's leg: DTMF digits ("1", "123#") or { speech: "..." }; missing entry = no input (timeout). */
  inputs?: ({ digits: string } | { speech: string; confidence?: number })[];
  /** Seconds of virtual ring time before answering (default 3). */
  ringSeconds?: number;
}

export type CallEvent =
  | { type: "status"; callSid: string; status: CallStatus; at: Date }
  | { type: "say"; callSid: string; text: string; voice?: string; language?: string }
  | { type: "play"; callSid: string; url: string }
  | { type: "pause"; callSid: string; seconds: number }
  | { type: "gather"; callSid: string; input: string | null }
  | { type: "record"; callSid: string; recordingUrl: string; seconds: number }
  | { type: "bridge"; callSid: string; otherCallSid: string }
  | { type: "conference"; callSid: string; name: string; conferenceSid: string; action: "join" | "leave" }
  | { type: "conference-status"; conferenceSid: string; name: string; status: "in-progress" | "completed"; reason?: ConferenceEndReason }
  | { type: "conference-record"; conferenceSid: string; recordingUrl: string; seconds: number }
  | { type: "conference-error"; conferenceSid: string; code: number; message: string }
  | { type: "error"; callSid: string; code: number; message: string };

export type CallStatus =
  | "queued"
  | "initiated"
  | "ringing"
  | "in-progress"
  | "completed"
  | "busy"
  | "no-answer"
  | "failed"
  | "canceled";

/** Twilio REST error, to be rendered by the REST layer as {code,message,more_info,status}. */
export class TwilioApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "TwilioApiError";
  }

  /** The JSON body Twilio sends with this error (sheet §6). */
  toJSON(): { code: number; message: string; more_info: string; status: number } {
    return {
      code: this.code,
      message: this.message,
      more_info: `https://www.twilio.com/docs/errors/${this.code}`,
      status: this.status,
    };
  }
}

export type CallDirection = "inbound" | "outbound-api" | "outbound-dial";

/** The Calls resource, every property of api.v2010.account.call in the 2010-04-01 spec. */
export interface CallResource {
  sid: string;
  date_created: string;
  date_updated: string;
  parent_call_sid: string | null;
  account_sid: string;
  to: string;
  to_formatted: string;
  from: string;
  from_formatted: string;
  phone_number_sid: string | null;
  /** The resource has no "initiated" (that is a callback-only event): it shows "queued" until ringing. */
  status: Exclude<CallStatus, "initiated">;
  start_time: string | null;
  end_time: string | null;
  duration: string | null;
  price: string | null;
  price_unit: string;
  direction: CallDirection;
  answered_by: string | null;
  api_version: string;
  forwarded_from: string | null;
  group_sid: string | null;
  caller_name: string | null;
  queue_time: string;
  trunk_sid: string | null;
  uri: string;
  subresource_uris: Record<string, string>;
}

type Method = "GET" | "POST";
type Target = { url: string; method: Method } | { twiml: string };
/** A document to fetch, with the extra params of the request that fetches it (Digits, DialCallStatus...). */
interface Fetch {
  target: Target;
  params: Record<string, string>;
}
type Party = "caller" | "callee";
/** Why a waiting leg woke up; `api`: a REST Status=completed, not the phone hanging up. */
type WaitEnd =
  | { by: Party; atMs: number; api?: boolean }
  | { by: "redirect"; atMs: number; target: Target };

interface Waiter {
  readonly since: number;
  /** For a bridge: the child leg, so a hangup knows which party hung up. */
  readonly callee: string | undefined;
  resume(end: WaitEnd): void;
}

interface StatusCallback {
  url: string;
  method: Method;
  events: ReadonlySet<string>;
}

interface Leg {
  readonly sid: string;
  readonly direction: CallDirection;
  readonly parentCallSid: string | null;
  readonly to: string;
  readonly from: string;
  readonly created: Date;
  readonly phoneNumberSid: string | null;
  /** The simulated phone on the far end of this leg: whose keys <Gather> hears. */
  readonly phone: PhoneBehavior | undefined;
  readonly timeoutSeconds: number;
  readonly record: boolean;
  status: CallStatus;
  updated: Date;
  offsetMs: number;
  startMs: number | null;
  answerMs: number | null;
  endMs: number | null;
  duration: number | null;
  target: Target;
  callback: StatusCallback | undefined;
  sequence: number;
  inputsUsed: number;
  docUrl: string | undefined;
  redirectsInARow: number;
  documents: number;
  pendingHangup: { atMs: number; by: Party; api?: boolean } | undefined;
  pendingRedirect: Target | undefined;
  pendingCancel: boolean;
  waiter: Waiter | undefined;
  chain: Promise<void>;
}

/**
 * Why a member left its conference, as the room decided it: its phone hung up,
 * the call was ended ("api") or redirected through the REST API, its Dial's
 * timeLimit ran out, or the conference ended around it.
 */
type LeaveReason = "hung-up" | "api" | "redirect" | "time-limit" | "ended";
interface Leave {
  atMs: number;
  reason: LeaveReason;
  target?: Target;
}

interface Member {
  readonly leg: Leg;
  readonly startOnEnter: boolean;
  readonly endOnExit: boolean;
  readonly muted: boolean;
  readonly label: string | undefined;
  /** When the Dial's timeLimit takes the leg out (counted from the Dial's start). */
  readonly deadlineMs: number;
  /** Set while the member's program is parked: hands it the reason it left. */
  release: ((leave: Leave) => void) | undefined;
}

/** One run of a named room: a new one (new ConferenceSid) each time the name is reused after it ended. */
interface ConferenceRun extends ConferenceRecord {
  /** In the order they joined. */
  readonly members: Map<string, Member>;
  /** Conference-level settings come from the first participant that gives them (Twilio: "subsequent ... will be ignored"). */
  callback: StatusCallback | undefined;
  callbackChosen: boolean;
  record: { on: boolean; callback: { url: string; method: Method } | undefined } | undefined;
  recording: { sid: string; startMs: number } | undefined;
  sequence: number;
  /** The room's clock: the latest moment of any of its events. */
  latestMs: number;
  /** Status callbacks, delivered one after the other. */
  outbox: Promise<void>;
}

/** ReasonParticipantLeft for each way of leaving, except "ended" (which depends on how the conference ended). */
const LEAVE_REASON: Readonly<Record<Exclude<LeaveReason, "ended">, string>> = {
  "hung-up": "participant_hung_up",
  api: "participant_updated_via_api",
  redirect: "participant_updated_via_api",
  // UNCONFIRMED: the docs list no reason for a Dial timeLimit; Twilio hangs up
  // the conference leg of the Dial, so it reads as the participant hanging up.
  "time-limit": "participant_hung_up",
};

/** How a verb hands control back to the program loop. */
type Step = "continue" | "hangup" | "error" | "ended" | Fetch;
/**
 * How a program (a chain of documents on one leg) stopped: ran off the end of
 * a document, hit <Hangup>, failed on an app error, or the leg already ended.
 */
type Outcome = "fell-off" | "hangup" | "error" | "ended";

const API_VERSION = "2010-04-01";
const E164 = /^\+[1-9]\d{1,14}$/;
const FINAL: ReadonlySet<CallStatus> = new Set(["completed", "busy", "no-answer", "failed", "canceled"]);
const STATUS_EVENT: Readonly<Record<CallStatus, string | undefined>> = {
  queued: undefined,
  initiated: "initiated",
  ringing: "ringing",
  "in-progress": "answered",
  completed: "completed",
  busy: "completed",
  "no-answer": "completed",
  failed: "completed",
  canceled: "completed",
};
/**
 * Sandbox guard, not a Twilio rule: <Redirect>s in a row with no caller input
 * in between. The sheet ties 11215 to "≤10 redirects"; real Twilio lets an
 * IVR loop until the caller hangs up, but in virtual time such a loop would
 * spin forever, so it is cut and reported loudly instead.
 */
const MAX_REDIRECTS = 10;
/** Sandbox guard: documents one leg may fetch (catches action->action loops that take no time). */
const MAX_DOCUMENTS = 100;
/** Talk time of a simulated <Record> message, capped by maxLength. */
const RECORDED_SECONDS = 5;

export class VoiceEngine {
  private readonly legs = new Map<string, Leg>();
  /** Every conference run, oldest first (the Conferences list). */
  private readonly conferenceRuns = new Map<string, ConferenceRun>();
  /** The run in progress (or waiting to start) for each room name: only one at a time, as at Twilio. */
  private readonly liveConferences = new Map<string, ConferenceRun>();
  private readonly numberSids = new Map<string, string>();
  private active = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly host: CallHost) {}

  // ---------------------------------------------------------------- public API

  createCall(form: Record<string, string | string[]>): CallResource {
    const to = first(form, "To");
    const from = first(form, "From");
    if (to === undefined || to === "") throw new TwilioApiError(400, 21201, "No 'To' number is specified");
    // Only E.164 numbers: Twilio also takes client:/sip: addresses, which the sandbox does not model.
    if (!E164.test(to)) throw new TwilioApiError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    if (from === undefined || from === "") throw new TwilioApiError(400, 21213, "No 'From' number is specified");
    if (!E164.test(from)) throw new TwilioApiError(400, 21212, `Invalid 'From' Phone Number: ${from}`);
    const target = this.targetFrom(form, "Url", "Method");
    if (target === undefined) {
      if (first(form, "ApplicationSid") !== undefined) {
        throw new TwilioApiError(400, 21205, "ApplicationSid is not supported by the sandbox: use Url or Twiml");
      }
      throw new TwilioApiError(400, 21205, "Url parameter is required (or Twiml)");
    }
    const leg = this.newLeg({
      direction: "outbound-api",
      parentCallSid: null,
      to,
      from,
      phone: this.host.behaviorOf(to),
      target,
      callback: this.callbackFrom(first(form, "StatusCallback"), first(form, "StatusCallbackMethod"), all(form, "StatusCallbackEvent")),
      // Sheet §3: default 60 s, max 600. The "+5 s buffer" Twilio may add is not modelled.
      timeoutSeconds: clamp(intOr(first(form, "Timeout"), 60), 1, 600),
      record: first(form, "Record")?.toLowerCase() === "true",
      offsetMs: 0,
    });
    this.enqueue(leg, () => this.runOutbound(leg));
    return this.resource(leg);
  }

  placeInboundCall(from: string, to: string): CallResource {
    const voice = this.host.voiceUrlOf(to);
    // Not a REST call in real Twilio; refusing makes a mistyped number obvious in the sandbox UI.
    if (voice === undefined) throw new TwilioApiError(404, 20404, `${to} is not a phone number of this account`);
    const leg = this.newLeg({
      direction: "inbound",
      parentCallSid: null,
      to,
      from,
      phone: this.host.behaviorOf(from),
      target: { url: voice.url, method: voice.method },
      // The number's StatusCallback hears only "completed" for inbound calls.
      callback: this.callbackFrom(voice.statusCallback, "POST", []),
      timeoutSeconds: 60,
      record: false,
      offsetMs: 0,
      phoneNumberSid: this.numberSid(to),
    });
    // Inbound calls are ringing while Twilio asks the app what to do (CallStatus=ringing in that request).
    leg.status = "ringing";
    leg.startMs = this.at(leg);
    this.logStatus(leg);
    this.enqueue(leg, () => this.runInbound(leg));
    return this.resource(leg);
  }

  updateCall(sid: string, form: Record<string, string | string[]>): CallResource {
    const leg = this.mustGet(sid);
    const status = first(form, "Status");
    const callbackUrl = first(form, "StatusCallback");
    if (callbackUrl !== undefined) {
      leg.callback = this.callbackFrom(callbackUrl, first(form, "StatusCallbackMethod"), [...(leg.callback?.events ?? [])]);
    }
    if (status !== undefined) {
      if (status !== "completed" && status !== "canceled") {
        throw new TwilioApiError(400, 20001, `Invalid Status: ${status} (completed or canceled)`);
      }
      this.stop(leg, status === "completed" ? "hangup" : "cancel");
      // The response is the call as it is now; the hang-up lands in the
      // background a moment later (await idle() to see it).
      return this.resource(leg);
    }
    const target = this.targetFrom(form, "Url", "Method");
    if (target !== undefined) {
      if (FINAL.has(leg.status)) throw new TwilioApiError(400, 21220, "Call is not in-progress. Cannot redirect.");
      if (leg.answerMs === null) leg.target = target; // not answered yet: the new TwiML runs on answer
      else if (leg.waiter) leg.waiter.resume({ by: "redirect", atMs: this.at(leg), target });
      else leg.pendingRedirect = target;
    }
    return this.resource(leg);
  }

  getCall(sid: string): CallResource | undefined {
    const leg = this.legs.get(sid);
    return leg && this.resource(leg);
  }

  /** Newest first, as the Calls list is. */
  listCalls(): CallResource[] {
    return [...this.legs.values()].reverse().map((leg) => this.resource(leg));
  }

  /** The Conferences list: newest first, filtered as ListConference is (throws ConferenceFilterError on a bad date). */
  listConferences(filters: ConferenceFilters = {}): ConferenceResource[] {
    return selectConferences(this.conferenceRuns.values(), filters).map((run) => conferenceResource(this.host.accountSid, run));
  }

  getConference(sid: string): ConferenceResource | undefined {
    const run = this.conferenceRuns.get(sid);
    return run && conferenceResource(this.host.accountSid, run);
  }

  /**
   * POST .../Conferences/{Sid}.json: AnnounceUrl (+AnnounceMethod, POST by
   * default) plays a document to everyone in it; Status=completed ends it:
   * every participant leaves and each one's <Dial> goes on with its action or
   * next verb. The response is the conference as it is then; the announcement
   * and the legs carry on in the background (await idle()).
   */
  updateConference(sid: string, form: Record<string, string | string[]>): ConferenceResource {
    const run = this.conferenceRuns.get(sid);
    if (!run) {
      throw new TwilioApiError(404, 20404, `The requested resource /2010-04-01/Accounts/${this.host.accountSid}/Conferences/${sid}.json was not found`);
    }
    const status = first(form, "Status");
    if (status !== undefined && status !== "completed") throw new TwilioApiError(400, 20001, `Invalid Status: ${status} (only completed)`);
    const announceUrl = first(form, "AnnounceUrl");
    if (announceUrl !== undefined && announceUrl !== "") {
      if (!/^https?:\/\//i.test(announceUrl) || !URL.canParse(announceUrl)) throw new TwilioApiError(400, 21205, `Invalid AnnounceUrl: ${announceUrl}`);
      // UNCONFIRMED: the error Twilio gives for announcing to an ended conference.
      if (run.status === "completed") throw new TwilioApiError(400, 20001, `Conference ${sid} is completed: nothing to announce to`);
      this.active += 1;
      void this.announce(run, { url: announceUrl, method: methodOf(first(form, "AnnounceMethod")) })
        .catch((error: unknown) => this.conferenceError(run, 20500, `sandbox internal error: ${String(error)}`))
        .finally(() => {
          this.active -= 1;
          this.wakeIdle();
        });
    }
    if (status === "completed" && run.status !== "completed") {
      // The room's "now": its latest event, or later if its members' clocks moved on (real time in development).
      const atMs = Math.max(run.latestMs, ...[...run.members.values()].map((member) => this.at(member.leg)));
      this.endConference(run, atMs, "conference-ended-via-api");
    }
    return conferenceResource(this.host.accountSid, run);
  }

  async hangup(sid: string, options: { afterSeconds?: number; by?: Party } = {}): Promise<void> {
    const leg = this.mustGet(sid);
    if (!FINAL.has(leg.status)) {
      const waiter = leg.waiter;
      if (waiter) {
        const party = options.by ?? (waiter.callee === leg.sid ? "callee" : "caller");
        const atMs = options.afterSeconds === undefined
          ? Math.max(this.at(leg), waiter.since)
          : waiter.since + options.afterSeconds * 1000;
        waiter.resume({ by: party, atMs });
      } else if (leg.answerMs === null) {
        leg.pendingCancel = true;
      } else {
        const atMs = options.afterSeconds === undefined
          ? this.at(leg)
          : leg.answerMs + options.afterSeconds * 1000;
        leg.pendingHangup = { atMs, by: options.by ?? (leg.parentCallSid ? "callee" : "caller") };
      }
    }
    await this.idle();
  }

  async idle(): Promise<void> {
    while (this.active > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  // ------------------------------------------------------------- call programs

  private async runOutbound(leg: Leg): Promise<void> {
    if (await this.cancelled(leg)) return;
    leg.startMs = this.at(leg);
    await this.transition(leg, "initiated");
    const phone = leg.phone;
    // Not a simulated phone, or one set to fail: the carrier cannot complete the call.
    if (!phone || phone.answer === "fail") return this.endLeg(leg, "failed", this.at(leg));
    if (phone.answer === "busy") return this.endLeg(leg, "busy", this.at(leg));
    if (await this.cancelled(leg)) return;
    await this.transition(leg, "ringing");
    const ring = phone.ringSeconds ?? 3;
    if (phone.answer === "no-answer" || ring > leg.timeoutSeconds) {
      return this.endLeg(leg, "no-answer", this.at(leg) + leg.timeoutSeconds * 1000);
    }
    this.advance(leg, ring);
    if (await this.cancelled(leg)) return;
    await this.answer(leg);
    await this.finish(leg, await this.runProgram(leg, { target: leg.target, params: {} }));
  }

  private async runInbound(leg: Leg): Promise<void> {
    await this.finish(leg, await this.runProgram(leg, { target: leg.target, params: {} }));
  }

  /** Ends a top-level call whose program stopped. */
  private async finish(leg: Leg, outcome: Outcome): Promise<void> {
    if (outcome === "ended" || FINAL.has(leg.status)) return;
    // An inbound call still ringing is answered anyway: Twilio picks up to play
    // an empty document or its application-error message (only <Reject> avoids that).
    if (leg.answerMs === null) await this.answer(leg);
    await this.endLeg(leg, "completed", this.at(leg));
  }

  /** Runs documents on one leg until it runs off the end, hangs up, fails or ends. */
  private async runProgram(leg: Leg, start: Fetch): Promise<Outcome> {
    let next: Fetch | undefined = start;
    for (;;) {
      const verbs = await this.fetchDocument(leg, next);
      if (verbs === null) return "error";
      next = undefined;
      for (const verb of verbs) {
        if (FINAL.has(leg.status)) return "ended";
        const interrupt = this.takeInterrupt(leg);
        if (interrupt && "atMs" in interrupt) {
          await this.endLeg(leg, leg.answerMs === null ? "canceled" : "completed", interrupt.atMs);
          return "ended";
        }
        if (interrupt) {
          next = { target: interrupt, params: {} };
          break;
        }
        const step = await this.execVerb(leg, verb);
        if (step === "continue") continue;
        if (typeof step === "string") return step;
        next = step;
        break;
      }
      if (next === undefined) {
        const interrupt = this.takeInterrupt(leg);
        if (interrupt && "atMs" in interrupt) {
          await this.endLeg(leg, leg.answerMs === null ? "canceled" : "completed", interrupt.atMs);
          return "ended";
        }
        if (!interrupt) return "fell-off";
        next = { target: interrupt, params: {} };
      }
    }
  }

  /** A hang-up or redirect requested while the leg's program was busy. */
  private takeInterrupt(leg: Leg): { atMs: number } | Target | undefined {
    if (leg.pendingHangup) {
      const { atMs } = leg.pendingHangup;
      leg.pendingHangup = undefined;
      return { atMs };
    }
    if (leg.pendingRedirect) {
      const target = leg.pendingRedirect;
      leg.pendingRedirect = undefined;
      return target;
    }
    return undefined;
  }

  private async fetchDocument(leg: Leg, fetch: Fetch): Promise<TwimlNode[] | null> {
    leg.documents += 1;
    if (leg.documents > MAX_DOCUMENTS) {
      this.error(leg, 11215, `sandbox guard: more than ${MAX_DOCUMENTS} TwiML documents on one call`);
      return null;
    }
    if ("twiml" in fetch.target) {
      const result = interpretAnswer("text/xml", fetch.target.twiml, undefined);
      if (result.kind === "error") {
        this.error(leg, result.code, `Twiml parameter: ${result.message}`);
        return null;
      }
      leg.docUrl = undefined;
      return result.verbs;
    }
    const { url, method } = fetch.target;
    const answer = await this.send(leg, url, method, { ...this.callParams(leg), ...fetch.params }, 11200);
    if (answer === null) return null;
    const result = interpretAnswer(answer.contentType, answer.body, url);
    if (result.kind === "error") {
      this.error(leg, result.code, `${url}: ${result.message}`);
      return null;
    }
    leg.docUrl = url;
    return result.verbs;
  }

  // --------------------------------------------------------------------- verbs

  private async execVerb(leg: Leg, verb: TwimlNode): Promise<Step> {
    if (leg.answerMs === null) {
      // Only an inbound call reaches here unanswered: <Reject> as the first
      // verb keeps Twilio from picking up; anything else answers the call.
      if (verb.name === "Reject") {
        // twilio.com/docs/voice/twiml/reject: "busy or no-answer, depending on
        // the reason": reason busy -> busy, rejected (default) -> no-answer.
        const status = verb.attrs.reason === "busy" ? "busy" : "no-answer";
        await this.endLeg(leg, status, this.at(leg));
        return "ended";
      }
      await this.answer(leg);
    }
    switch (verb.name) {
      case "Say":
        return this.say(leg, verb, false);
      case "Play":
        return this.play(leg, verb, false);
      case "Pause":
        return this.pause(leg, verb);
      case "Gather":
        return this.gather(leg, verb);
      case "Dial":
        return this.dial(leg, verb);
      case "Redirect":
        return this.redirect(leg, verb);
      case "Record":
        return this.recordVerb(leg, verb);
      case "Hangup":
        return "hangup";
      case "Reject":
        // UNCONFIRMED: <Reject> on an answered call (outbound, or not first) is
        // treated as <Hangup>; the docs only describe it for incoming calls.
        return "hangup";
      default:
        // parseTwiml refuses other verbs; kept for nouns out of place.
        this.error(leg, 12100, `<${verb.name}> cannot be used here`);
        return "error";
    }
  }

  private async say(leg: Leg, verb: TwimlNode, nested: boolean): Promise<Step> {
    const loop = intOr(verb.attrs.loop, 1);
    const event = sayEvent(leg.sid, verb);
    return this.repeat(leg, loop, nested, () => this.host.log(event));
  }

  private async play(leg: Leg, verb: TwimlNode, nested: boolean): Promise<Step> {
    const digits = verb.attrs.digits;
    const url = verb.text.trim();
    if (url === "" && digits === undefined) {
      this.error(leg, 12100, "<Play> needs a URL or digits");
      return "error";
    }
    // DTMF tones are logged as a pseudo URL so the UI can show them.
    const played = url === "" ? `dtmf:${digits ?? ""}` : url;
    return this.repeat(leg, intOr(verb.attrs.loop, 1), nested, () =>
      this.host.log({ type: "play", callSid: leg.sid, url: played }),
    );
  }

  /**
   * loop="0" repeats until the call ends (sheet §4: 0 allowed). Inside
   * <Gather> the loop would end with the caller's input, so once is enough;
   * on its own the leg holds until hangup() or a redirect.
   */
  private async repeat(leg: Leg, loop: number, nested: boolean, once: () => void): Promise<Step> {
    if (loop > 0 || nested) {
      for (let i = 0; i < Math.max(loop, 1); i++) once();
      return "continue";
    }
    once();
    const end = await this.suspend([leg], undefined);
    if (end.by === "redirect") return { target: end.target, params: {} };
    await this.endLeg(leg, "completed", end.atMs);
    return "ended";
  }

  private pause(leg: Leg, verb: TwimlNode): Step {
    // Default length 1 s: UNCONFIRMED in the sheet, and the usual reading of Twilio's docs.
    const seconds = Math.max(0, intOr(verb.attrs.length, 1));
    this.host.log({ type: "pause", callSid: leg.sid, seconds });
    this.advance(leg, seconds);
    return "continue";
  }

  private async gather(leg: Leg, verb: TwimlNode): Promise<Step> {
    for (const child of verb.children) {
      if (child.name === "Say") await this.say(leg, child, true);
      else if (child.name === "Play") await this.play(leg, child, true);
      else if (child.name === "Pause") this.pause(leg, child);
    }
    const modes = (verb.attrs.input ?? "dtmf").split(/\s+/);
    const timeout = intOr(verb.attrs.timeout, 5);
    const entry = leg.phone?.inputs?.[leg.inputsUsed];
    // The phone's next input is used up by this <Gather> whether or not it
    // listens for that kind of input (the caller did press/say it).
    if (entry) leg.inputsUsed += 1;
    let params: Record<string, string> | undefined;
    let heard: string | null = null;
    if (entry && "digits" in entry && modes.includes("dtmf")) {
      const { digits, complete } = collectDigits(
        entry.digits,
        verb.attrs.numDigits === undefined ? undefined : intOr(verb.attrs.numDigits, 0),
        verb.attrs.finishOnKey ?? "#",
      );
      if (digits !== "") {
        params = { Digits: digits };
        heard = digits;
        // Without finishOnKey or numDigits reached, Twilio waits `timeout` then submits.
        if (!complete) this.advance(leg, timeout);
      }
    } else if (entry && "speech" in entry && modes.includes("speech")) {
      params = { SpeechResult: entry.speech, Confidence: String(entry.confidence ?? 0.9) };
      heard = entry.speech;
    }
    if (params === undefined) this.advance(leg, timeout);
    else leg.redirectsInARow = 0;
    this.host.log({ type: "gather", callSid: leg.sid, input: heard });
    // Sheet §4: no input -> no action request, next verb runs (unless actionOnEmptyResult=true).
    if (params === undefined && verb.attrs.actionOnEmptyResult !== "true") return "continue";
    const url = this.actionUrl(leg, verb.attrs.action);
    if (url === undefined) return "continue";
    return { target: { url, method: methodOf(verb.attrs.method) }, params: params ?? {} };
  }

  private redirect(leg: Leg, verb: TwimlNode): Step {
    leg.redirectsInARow += 1;
    if (leg.redirectsInARow > MAX_REDIRECTS) {
      this.error(leg, 11215, `more than ${MAX_REDIRECTS} <Redirect>s in a row without caller input`);
      return "error";
    }
    const url = this.resolveUrl(leg, verb.text.trim());
    if (url === undefined) return "error";
    return { target: { url, method: methodOf(verb.attrs.method) }, params: {} };
  }

  private recordVerb(leg: Leg, verb: TwimlNode): Step {
    const maxLength = intOr(verb.attrs.maxLength, 3600);
    const silence = intOr(verb.attrs.timeout, 5);
    const seconds = Math.min(maxLength, RECORDED_SECONDS);
    if (verb.attrs.playBeep !== "false") this.host.log({ type: "play", callSid: leg.sid, url: "beep" });
    const recordingUrl = this.recordingUrl(newSid("RE"));
    // The caller talks, then falls silent for `timeout` seconds, which ends the recording.
    this.advance(leg, seconds + silence);
    this.host.log({ type: "record", callSid: leg.sid, recordingUrl, seconds });
    leg.redirectsInARow = 0;
    // Sheet §4: no action -> the current document is requested again.
    const url = this.actionUrl(leg, verb.attrs.action);
    if (url === undefined) return "continue";
    // Digits is left out: the recording ended on silence, not a key or a hang-up
    // (what Twilio sends then is UNCONFIRMED; leaving it out is the safe reading).
    return {
      target: { url, method: methodOf(verb.attrs.method) },
      params: { RecordingUrl: recordingUrl, RecordingDuration: String(seconds) },
    };
  }

  // ---------------------------------------------------------------------- Dial

  private async dial(parent: Leg, verb: TwimlNode): Promise<Step> {
    if (parent.direction === "outbound-dial") {
      this.error(parent, 12100, "<Dial> is not allowed in a <Number> url (whisper) document");
      return "error";
    }
    const conference = verb.children.find((c) => c.name === "Conference");
    if (conference) return this.conference(parent, verb, conference);

    const targets: { number: string; node: TwimlNode | undefined }[] = verb.children
      .filter((c) => c.name === "Number")
      .map((node) => ({ number: node.text.trim(), node }));
    if (targets.length === 0 && verb.text.trim() !== "") targets.push({ number: verb.text.trim(), node: undefined });
    const timeout = intOr(verb.attrs.timeout, 30);
    const start = this.at(parent);

    const children: Leg[] = [];
    const nodes = new Map<string, TwimlNode | undefined>();
    for (const { number, node } of targets) {
      if (!E164.test(number)) {
        this.error(parent, 13224, `Dial: invalid phone number ${number}`);
        continue;
      }
      const child = this.newLeg({
        direction: "outbound-dial",
        parentCallSid: parent.sid,
        to: number,
        // Sheet §4: callerId defaults to the caller's number.
        from: verb.attrs.callerId ?? parent.from,
        phone: this.host.behaviorOf(number),
        target: { twiml: "<Response/>" },
        callback: this.callbackFrom(
          node?.attrs.statusCallback === undefined ? undefined : this.resolveUrl(parent, node.attrs.statusCallback),
          node?.attrs.statusCallbackMethod,
          (node?.attrs.statusCallbackEvent ?? "").split(/\s+/).filter((e) => e !== ""),
        ),
        timeoutSeconds: timeout,
        record: false,
        offsetMs: parent.offsetMs,
      });
      children.push(child);
      nodes.set(child.sid, node);
    }

    // All numbers ring at once; <Dial> legs skip "queued" (sheet §3).
    for (const child of children) {
      child.startMs = start;
      await this.transition(child, "initiated");
    }
    for (const child of children) {
      const phone = child.phone;
      if (!phone || phone.answer === "fail") await this.endLeg(child, "failed", start);
      else if (phone.answer === "busy") await this.endLeg(child, "busy", start);
      else await this.transition(child, "ringing");
    }
    const ringing = children.filter((c) => !FINAL.has(c.status));
    const answering = ringing
      .filter((c) => c.phone?.answer === "answer" && (c.phone.ringSeconds ?? 3) <= timeout)
      .sort((a, b) => (a.phone?.ringSeconds ?? 3) - (b.phone?.ringSeconds ?? 3));
    const winner = answering[0];

    let params: Record<string, string>;
    let callerHungUp = false;
    if (!winner) {
      for (const child of ringing) await this.endLeg(child, "no-answer", start + timeout * 1000);
      if (ringing.length > 0) this.moveTo(parent, start + timeout * 1000);
      const statuses = children.map((c) => c.status);
      const status = statuses.length === 1 && statuses[0] !== undefined
        ? statuses[0]
        : statuses.includes("no-answer") ? "no-answer" : statuses.includes("busy") ? "busy" : "failed";
      params = { DialCallStatus: status, ...(children[0] ? { DialCallSid: children[0].sid } : {}), DialBridged: "false" };
    } else {
      const answeredAt = start + (winner.phone?.ringSeconds ?? 3) * 1000;
      // The other numbers stop ringing when one answers.
      for (const child of ringing) if (child !== winner) await this.endLeg(child, "canceled", answeredAt);
      this.moveTo(winner, answeredAt);
      await this.answer(winner);
      const result = await this.connect(parent, winner, nodes.get(winner.sid), intOr(verb.attrs.timeLimit, 14400));
      if (result.redirect) return { target: result.redirect, params: {} };
      callerHungUp = result.callerHungUp;
      params = {
        // A whisper that hangs up ends an answered leg: "completed", but not
        // bridged. UNCONFIRMED; DialBridged exists to tell these cases apart.
        DialCallStatus: "completed",
        DialCallSid: winner.sid,
        DialCallDuration: String(winner.duration ?? 0),
        DialBridged: String(result.bridged),
      };
    }
    return this.afterDial(parent, verb, params, callerHungUp);
  }

  /**
   * Runs the whisper on the answered leg, then bridges it with the parent
   * until one side hangs up, the time limit passes, or the parent is redirected.
   */
  private async connect(
    parent: Leg,
    child: Leg,
    node: TwimlNode | undefined,
    timeLimit: number,
  ): Promise<{ bridged: boolean; callerHungUp: boolean; redirect?: Target }> {
    const whisper = node?.attrs.url;
    if (whisper !== undefined) {
      const url = this.resolveUrl(parent, whisper);
      const outcome = url === undefined
        ? "error"
        : await this.runProgram(child, { target: { url, method: methodOf(node?.attrs.method) }, params: {} });
      if (outcome !== "fell-off") {
        // The callee's side hung up (or its document failed) before the bridge.
        await this.endLeg(child, "completed", this.at(child));
        this.moveTo(parent, this.at(child));
        return { bridged: false, callerHungUp: false };
      }
    }
    const since = Math.max(this.at(parent), this.at(child));
    this.moveTo(parent, since);
    this.moveTo(child, since);
    this.host.log({ type: "bridge", callSid: parent.sid, otherCallSid: child.sid });
    const end = await this.suspend([parent, child], child.sid);
    const limit = since + timeLimit * 1000;
    // Past the Dial's timeLimit Twilio had already ended the child leg and the
    // parent went on with the Dial's action: the later hang-up request is moot.
    const limited = end.atMs > limit;
    const atMs = Math.min(end.atMs, limit);
    this.moveTo(parent, atMs);
    await this.endLeg(child, "completed", atMs);
    if (!limited && end.by === "redirect") return { bridged: true, callerHungUp: false, redirect: end.target };
    return { bridged: true, callerHungUp: !limited && end.by === "caller" };
  }

  /** Sheet §4: with `action`, later verbs are unreachable; without it the document goes on. */
  private async afterDial(parent: Leg, verb: TwimlNode, params: Record<string, string>, callerHungUp: boolean): Promise<Step> {
    const action = verb.attrs.action === undefined ? undefined : this.resolveUrl(parent, verb.attrs.action);
    if (callerHungUp) {
      // The caller hung up: Twilio still reports the Dial's outcome to its
      // action (CallStatus=completed) but has no one left to run the answer for.
      if (action !== undefined) {
        await this.send(parent, action, methodOf(verb.attrs.method), { ...this.callParams(parent, "completed"), ...params }, 11200);
      }
      await this.endLeg(parent, "completed", this.at(parent));
      return "ended";
    }
    if (action === undefined) return verb.attrs.action === undefined ? "continue" : "error";
    return { target: { url: action, method: methodOf(verb.attrs.method) }, params };
  }

  /**
   * <Dial><Conference>: joins the room (opening a new run of it when none is
   * live), waits until the room says the leg left, then goes on as <Dial>
   * does: the action, or the next verb.
   */
  private async conference(leg: Leg, verb: TwimlNode, node: TwimlNode): Promise<Step> {
    const name = node.text.trim();
    const dialStartMs = this.at(leg);
    const existing = this.liveConferences.get(name);
    if (existing) {
      this.moveTo(leg, existing.latestMs);
      // Time limits that ran out before this moment take their members out first.
      this.settleConference(existing, this.at(leg));
    }
    const run = this.liveConferences.get(name) ?? this.openConference(name, this.at(leg));
    const joinMs = this.at(leg);
    this.configureConference(run, leg, node);
    const member: Member = {
      leg,
      // twilio.com/docs/voice/twiml/conference: startConferenceOnEnter defaults to true, endConferenceOnExit and muted to false.
      startOnEnter: node.attrs.startConferenceOnEnter !== "false",
      endOnExit: node.attrs.endConferenceOnExit === "true",
      muted: node.attrs.muted === "true",
      label: node.attrs.participantLabel,
      // Sheet §4: Dial timeLimit defaults to 14400 s, counted from the Dial's start.
      deadlineMs: dialStartMs + intOr(verb.attrs.timeLimit, 14400) * 1000,
      release: undefined,
    };
    run.members.set(leg.sid, member);
    run.latestMs = Math.max(run.latestMs, joinMs);
    this.host.log({ type: "conference", callSid: leg.sid, name, conferenceSid: run.sid, action: "join" });
    // Everyone in a conference hears everyone: the newcomer is bridged with each member.
    for (const other of run.members.values()) {
      if (other !== member) this.host.log({ type: "bridge", callSid: leg.sid, otherCallSid: other.leg.sid });
    }
    this.emitConferenceEvent(run, "participant-join", joinMs, participantParams(member));
    // Docs: the conference starts when there are at least two participants and
    // at least one of them has startConferenceOnEnter="true"; until then they wait.
    const members = [...run.members.values()];
    if (run.status === "init" && members.length >= 2 && members.some((m) => m.startOnEnter)) this.startConference(run, joinMs);

    const left = await this.parkMember(run, member);
    this.moveTo(leg, left.atMs);
    this.host.log({ type: "conference", callSid: leg.sid, name, conferenceSid: run.sid, action: "leave" });
    if (left.reason === "redirect" && left.target) return { target: left.target, params: {} };
    // The conference ending or the time limit only ends the Dial: the call goes
    // on with the action or the next verb ("each participant's <Dial> will complete").
    // Sheet §4: DialCallSid and DialCallDuration are absent for conferences.
    return this.afterDial(leg, verb, { DialCallStatus: "completed" }, left.reason === "hung-up" || left.reason === "api");
  }

  private openConference(name: string, atMs: number): ConferenceRun {
    const created = new Date(atMs);
    const run: ConferenceRun = {
      sid: newSid("CF"),
      friendlyName: name,
      status: "init",
      created,
      updated: created,
      reasonEnded: null,
      callSidEnding: null,
      members: new Map(),
      callback: undefined,
      callbackChosen: false,
      record: undefined,
      recording: undefined,
      sequence: 0,
      latestMs: atMs,
      outbox: Promise.resolve(),
    };
    this.conferenceRuns.set(run.sid, run);
    this.liveConferences.set(name, run);
    return run;
  }

  /**
   * Conference-level attributes: the first participant that gives them wins
   * (docs, statusCallback and statusCallbackEvent: "subsequent ... will be
   * ignored"). For `record` and its callback the same rule is UNCONFIRMED
   * (the docs only say it of statusCallback, statusCallbackEvent and region).
   */
  private configureConference(run: ConferenceRun, leg: Leg, node: TwimlNode): void {
    const attrs = node.attrs;
    if (!run.callbackChosen && attrs.statusCallback !== undefined) {
      run.callbackChosen = true;
      const url = this.resolveUrl(leg, attrs.statusCallback);
      if (url !== undefined) {
        run.callback = { url, method: methodOf(attrs.statusCallbackMethod), events: conferenceEvents(attrs.statusCallbackEvent) };
      }
    }
    if (run.record === undefined && attrs.record !== undefined) {
      const on = attrs.record === "record-from-start";
      const url = attrs.recordingStatusCallback === undefined ? undefined : this.resolveUrl(leg, attrs.recordingStatusCallback);
      // recordingStatusCallbackEvent defaults to "completed", the only one the sandbox sends.
      const events = (attrs.recordingStatusCallbackEvent ?? "completed").split(/[\s,]+/);
      run.record = {
        on,
        callback: on && url !== undefined && events.includes("completed") ? { url, method: methodOf(attrs.recordingStatusCallbackMethod) } : undefined,
      };
    }
  }

  private startConference(run: ConferenceRun, atMs: number): void {
    run.status = "in-progress";
    run.updated = new Date(atMs);
    this.host.log({ type: "conference-status", conferenceSid: run.sid, name: run.friendlyName, status: "in-progress" });
    this.emitConferenceEvent(run, "conference-start", atMs, {});
    // Docs, record: "the recording begins when the first two participants are bridged" (hold music is never recorded).
    if (run.record?.on) run.recording = { sid: newSid("RE"), startMs: atMs };
  }

  /** Parks a member's program until the room decides it left. */
  private parkMember(run: ConferenceRun, member: Member): Promise<Leave> {
    const leg = member.leg;
    return new Promise<Leave>((resolve) => {
      const waiter: Waiter = {
        since: this.at(leg),
        callee: undefined,
        resume: (end) => this.memberWoke(run, member, end),
      };
      member.release = (leave) => {
        member.release = undefined;
        if (leg.waiter === waiter) leg.waiter = undefined;
        this.active += 1;
        resolve(leave);
      };
      this.park([leg], waiter);
    });
  }

  /** A member's phone hung up, or the REST API ended or redirected its call. */
  private memberWoke(run: ConferenceRun, member: Member, end: WaitEnd): void {
    if (run.members.get(member.leg.sid) !== member) return;
    // The room's events keep their order: nothing leaves before what already happened in it.
    const atMs = Math.max(end.atMs, run.latestMs);
    this.settleConference(run, atMs);
    // Its own time limit (or another member's, ending the room) came first: what was asked is moot.
    if (run.members.get(member.leg.sid) !== member) return;
    if (end.by === "redirect") this.leaveConference(run, member, { atMs, reason: "redirect", target: end.target });
    else this.leaveConference(run, member, { atMs, reason: end.api ? "api" : "hung-up" });
  }

  /** Takes out, in time order, the members whose Dial timeLimit ran out before `atMs`. */
  private settleConference(run: ConferenceRun, atMs: number): void {
    for (;;) {
      if (run.status === "completed") return;
      const due = [...run.members.values()]
        .filter((member) => member.deadlineMs < atMs)
        .sort((a, b) => a.deadlineMs - b.deadlineMs)[0];
      if (!due) return;
      this.leaveConference(run, due, { atMs: Math.max(due.deadlineMs, run.latestMs), reason: "time-limit" });
    }
  }

  private leaveConference(run: ConferenceRun, member: Member, leave: Leave & { reason: Exclude<LeaveReason, "ended"> }): void {
    run.members.delete(member.leg.sid);
    run.latestMs = Math.max(run.latestMs, leave.atMs);
    const callEnds = leave.reason === "hung-up" || leave.reason === "api";
    this.emitConferenceEvent(run, "participant-leave", leave.atMs, {
      ...participantParams(member),
      ReasonParticipantLeft: LEAVE_REASON[leave.reason],
      ParticipantCallStatus: callEnds ? "completed" : "in-progress",
    });
    member.release?.(leave);
    if (member.endOnExit) this.endConference(run, leave.atMs, "participant-with-end-conference-on-exit-left", member.leg.sid);
    else if (run.members.size === 0) this.endConference(run, leave.atMs, "last-participant-left", member.leg.sid);
  }

  /**
   * Ends a run: conference-end, then every member still in it leaves (their
   * Dials complete, the calls go on), then the recording is reported.
   * UNCONFIRMED: the docs give no order between conference-end and the
   * others' participant-leave; "moderator_ended_conference" among the leave
   * reasons reads as the conference ending first.
   */
  private endConference(run: ConferenceRun, atMs: number, reason: ConferenceEndReason, callSid?: string): void {
    if (run.status === "completed") return;
    if (this.liveConferences.get(run.friendlyName) === run) this.liveConferences.delete(run.friendlyName);
    run.latestMs = Math.max(run.latestMs, atMs);
    run.status = "completed";
    run.updated = new Date(atMs);
    run.reasonEnded = reason;
    run.callSidEnding = callSid ?? null;
    this.host.log({ type: "conference-status", conferenceSid: run.sid, name: run.friendlyName, status: "completed", reason });
    this.emitConferenceEvent(run, "conference-end", atMs, {
      ReasonConferenceEnded: reason,
      ...(callSid !== undefined ? { CallSidEndingConference: callSid } : {}),
    });
    const why = reason === "conference-ended-via-api" ? "conference_ended_via_api" : "moderator_ended_conference";
    for (const other of [...run.members.values()]) {
      run.members.delete(other.leg.sid);
      this.emitConferenceEvent(run, "participant-leave", atMs, {
        ...participantParams(other),
        ReasonParticipantLeft: why,
        ParticipantCallStatus: "in-progress",
      });
      other.release?.({ atMs, reason: "ended" });
    }
    this.finishRecording(run, atMs);
  }

  private finishRecording(run: ConferenceRun, atMs: number): void {
    const recording = run.recording;
    if (!recording) return;
    run.recording = undefined;
    const seconds = Math.round((atMs - recording.startMs) / 1000);
    const recordingUrl = this.recordingUrl(recording.sid);
    this.host.log({ type: "conference-record", conferenceSid: run.sid, recordingUrl, seconds });
    const callback = run.record?.callback;
    if (!callback) return;
    // Docs, recordingStatusCallback parameters. RecordingSource: the docs say
    // "Conference is returned for Conference recordings". RecordingStartTime
    // in RFC 2822 like every other 2010-04-01 date: UNCONFIRMED.
    this.deliverConferenceRequest(run, callback, {
      AccountSid: this.host.accountSid,
      ConferenceSid: run.sid,
      RecordingSid: recording.sid,
      RecordingUrl: recordingUrl,
      RecordingStatus: "completed",
      RecordingDuration: String(seconds),
      RecordingChannels: "1",
      RecordingSource: "Conference",
      RecordingStartTime: rfc2822(new Date(recording.startMs)),
    });
  }

  /** A conference status callback, if the room's first participant asked for this event. */
  private emitConferenceEvent(run: ConferenceRun, event: string, atMs: number, extra: Record<string, string>): void {
    const callback = run.callback;
    if (!callback?.events.has(event)) return;
    const params: Record<string, string> = {
      ConferenceSid: run.sid,
      FriendlyName: run.friendlyName,
      AccountSid: this.host.accountSid,
      SequenceNumber: String(run.sequence),
      Timestamp: rfc2822(new Date(atMs)),
      StatusCallbackEvent: event,
      ...extra,
    };
    run.sequence += 1;
    this.deliverConferenceRequest(run, callback, params);
  }

  /** Sends on the room's chain: one request at a time, in the order they were made. */
  private deliverConferenceRequest(run: ConferenceRun, target: { url: string; method: Method }, params: Record<string, string>): void {
    this.active += 1;
    run.outbox = run.outbox
      .then(async () => {
        const result = await this.fetchOutside(target.url, target.method, params);
        // 15003: a warning on a callback; the conference goes on.
        if (!result.ok) this.conferenceError(run, result.code === 11200 ? 15003 : result.code, result.message);
      })
      .catch((error: unknown) => this.conferenceError(run, 20500, `sandbox internal error: ${String(error)}`))
      .finally(() => {
        this.active -= 1;
        this.wakeIdle();
      });
  }

  /** A request outside any leg's program: the answer, or why it failed (11205 no connection, 11200 non-2xx). */
  private async fetchOutside(
    url: string,
    method: Method,
    params: Record<string, string>,
  ): Promise<{ ok: true; answer: HttpAnswer } | { ok: false; code: number; message: string }> {
    let answer: HttpAnswer;
    try {
      answer = await this.host.request(url, method, params);
    } catch (error) {
      return { ok: false, code: 11205, message: `HTTP connection failure: ${url}: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (answer.status < 200 || answer.status > 299) return { ok: false, code: 11200, message: `HTTP ${answer.status} from ${method} ${url}` };
    return { ok: true, answer };
  }

  /**
   * AnnounceUrl: fetches the TwiML (signed, with AccountSid and ConferenceSid)
   * and plays it to everyone in the room when the request was made. The docs
   * allow <Play>, <Say>, <Pause> and <Redirect> (or an audio file). Nothing in
   * the sandbox has an audio length, so an announcement takes no time.
   */
  private async announce(run: ConferenceRun, target: { url: string; method: Method }): Promise<void> {
    const listeners = [...run.members.values()].map((member) => member.leg.sid);
    let next: { url: string; method: Method } | undefined = target;
    for (let fetches = 0; next !== undefined; fetches++) {
      if (fetches > MAX_REDIRECTS) return this.conferenceError(run, 11215, `more than ${MAX_REDIRECTS} <Redirect>s in an announcement`);
      const current: { url: string; method: Method } = next;
      next = undefined;
      const result = await this.fetchOutside(current.url, current.method, { AccountSid: this.host.accountSid, ConferenceSid: run.sid });
      if (!result.ok) return this.conferenceError(run, result.code, result.message);
      const document = interpretAnswer(result.answer.contentType, result.answer.body, current.url);
      if (document.kind === "error") return this.conferenceError(run, document.code, `${current.url}: ${document.message}`);
      for (const verb of document.verbs) {
        const times = Math.max(1, intOr(verb.attrs.loop, 1));
        if (verb.name === "Say") {
          for (const callSid of listeners) for (let i = 0; i < times; i++) this.host.log(sayEvent(callSid, verb));
        } else if (verb.name === "Play") {
          const played = verb.text.trim() === "" ? `dtmf:${verb.attrs.digits ?? ""}` : verb.text.trim();
          for (const callSid of listeners) for (let i = 0; i < times; i++) this.host.log({ type: "play", callSid, url: played });
        } else if (verb.name === "Pause") {
          const seconds = Math.max(0, intOr(verb.attrs.length, 1));
          for (const callSid of listeners) this.host.log({ type: "pause", callSid, seconds });
        } else if (verb.name === "Redirect") {
          let url: string;
          try {
            url = new URL(verb.text.trim(), current.url).toString();
          } catch {
            return this.conferenceError(run, 11100, `Invalid URL in an announcement's <Redirect>: ${verb.text.trim()}`);
          }
          next = { url, method: methodOf(verb.attrs.method) };
          break;
        } else if (verb.name !== "Hangup") {
          // <Hangup> only comes from an audio answer (play, then hang up): nothing to hang up here.
          return this.conferenceError(run, 12100, `<${verb.name}> cannot be used in an announcement`);
        }
      }
    }
    this.emitConferenceEvent(run, "announcement-end", run.latestMs, { AnnounceUrl: target.url });
  }

  private conferenceError(run: ConferenceRun, code: number, message: string): void {
    this.host.log({ type: "conference-error", conferenceSid: run.sid, code, message });
  }

  // ------------------------------------------------------------ leg lifecycle

  private newLeg(init: {
    direction: CallDirection;
    parentCallSid: string | null;
    to: string;
    from: string;
    phone: PhoneBehavior | undefined;
    target: Target;
    callback: StatusCallback | undefined;
    timeoutSeconds: number;
    record: boolean;
    offsetMs: number;
    phoneNumberSid?: string;
  }): Leg {
    const created = this.host.clock.now();
    const leg: Leg = {
      sid: newSid("CA"),
      direction: init.direction,
      parentCallSid: init.parentCallSid,
      to: init.to,
      from: init.from,
      created,
      phoneNumberSid: init.phoneNumberSid ?? null,
      phone: init.phone,
      timeoutSeconds: init.timeoutSeconds,
      record: init.record,
      status: "queued",
      updated: created,
      offsetMs: init.offsetMs,
      startMs: null,
      answerMs: null,
      endMs: null,
      duration: null,
      target: init.target,
      callback: init.callback,
      sequence: 0,
      inputsUsed: 0,
      docUrl: undefined,
      redirectsInARow: 0,
      documents: 0,
      pendingHangup: undefined,
      pendingRedirect: undefined,
      pendingCancel: false,
      waiter: undefined,
      chain: Promise.resolve(),
    };
    this.legs.set(leg.sid, leg);
    if (init.direction === "outbound-api") this.logStatus(leg);
    return leg;
  }

  private async answer(leg: Leg): Promise<void> {
    leg.answerMs = this.at(leg);
    await this.transition(leg, "in-progress");
  }

  /** A cancel (Status=canceled, or hangup before answer) requested while the call was being set up. */
  private async cancelled(leg: Leg): Promise<boolean> {
    if (!leg.pendingCancel) return FINAL.has(leg.status);
    leg.pendingCancel = false;
    await this.endLeg(leg, "canceled", this.at(leg));
    return true;
  }

  /** Hang-up / cancel from the REST API. */
  private stop(leg: Leg, how: "hangup" | "cancel"): void {
    if (FINAL.has(leg.status)) return;
    if (leg.answerMs === null) {
      // Not answered yet: both Status values cancel it. A Status=completed on a
      // ringing call is UNCONFIRMED; canceling is what ending it early means.
      leg.pendingCancel = true;
      return;
    }
    // Twilio ignores Status=canceled on a call already in progress.
    if (how === "cancel") return;
    if (leg.waiter) {
      leg.waiter.resume({
        by: leg.waiter.callee === leg.sid ? "callee" : "caller",
        atMs: Math.max(this.at(leg), leg.waiter.since),
        api: true,
      });
    } else {
      leg.pendingHangup = { atMs: this.at(leg), by: leg.parentCallSid ? "callee" : "caller", api: true };
    }
  }

  private async endLeg(leg: Leg, status: CallStatus, atMs: number): Promise<void> {
    if (FINAL.has(leg.status)) return;
    this.moveTo(leg, atMs);
    leg.endMs = this.at(leg);
    // Spec: duration is empty for busy, failed, unanswered calls.
    leg.duration = leg.answerMs === null ? null : Math.round((leg.endMs - leg.answerMs) / 1000);
    const extra: Record<string, string> = {};
    if (leg.record && leg.duration !== null) {
      // Record=true on create: the whole answered call is recorded; the
      // recording is reported with the completed callback (sheet §3).
      const recordingSid = newSid("RE");
      const recordingUrl = this.recordingUrl(recordingSid);
      this.host.log({ type: "record", callSid: leg.sid, recordingUrl, seconds: leg.duration });
      extra.RecordingUrl = recordingUrl;
      extra.RecordingSid = recordingSid;
      extra.RecordingDuration = String(leg.duration);
    }
    await this.transition(leg, status, extra);
  }

  private async transition(leg: Leg, status: CallStatus, extra: Record<string, string> = {}): Promise<void> {
    leg.status = status;
    leg.updated = new Date(this.at(leg));
    this.logStatus(leg);
    const event = STATUS_EVENT[status];
    const callback = leg.callback;
    if (!callback || event === undefined || !callback.events.has(event)) return;
    const params: Record<string, string> = {
      ...this.callParams(leg),
      CallbackSource: "call-progress-events",
      SequenceNumber: String(leg.sequence),
      Timestamp: rfc2822(new Date(this.at(leg))),
    };
    leg.sequence += 1;
    if (FINAL.has(status)) {
      const seconds = leg.duration ?? 0;
      params.CallDuration = String(seconds);
      // Observed (sheet §3 [S27]): Duration in minutes, rounded up.
      params.Duration = String(Math.ceil(seconds / 60));
    }
    // Status callback failures are only logged (15003: warning on a call-progress callback).
    await this.send(leg, callback.url, callback.method, { ...params, ...extra }, 15003);
  }

  private logStatus(leg: Leg): void {
    this.host.log({ type: "status", callSid: leg.sid, status: leg.status, at: new Date(this.at(leg)) });
  }

  // ------------------------------------------------------- waiting and idling

  private enqueue(leg: Leg, work: () => Promise<void>): void {
    this.active += 1;
    leg.chain = leg.chain
      .then(work)
      .catch((error: unknown) => this.internalError(leg, error))
      .finally(() => {
        this.active -= 1;
        this.wakeIdle();
      });
  }

  /**
   * Parks the running program until hangup()/updateCall() wakes one of `legs`.
   * While parked the program is not "active", so idle() can resolve.
   */
  private suspend(legs: readonly Leg[], callee: string | undefined): Promise<WaitEnd> {
    const since = Math.max(...legs.map((leg) => this.at(leg)));
    return new Promise<WaitEnd>((resolve) => {
      let done = false;
      const waiter: Waiter = {
        since,
        callee,
        resume: (end) => {
          if (done) return;
          done = true;
          for (const leg of legs) if (leg.waiter === waiter) leg.waiter = undefined;
          this.active += 1;
          resolve(end);
        },
      };
      this.park(legs, waiter);
    });
  }

  /**
   * Hangs `waiter` on `legs` and stops counting their program as busy. A
   * hang-up or redirect that came in while the program was busy applies now.
   */
  private park(legs: readonly Leg[], waiter: Waiter): void {
    for (const leg of legs) leg.waiter = waiter;
    this.active -= 1;
    for (const leg of legs) {
      if (leg.pendingHangup) {
        const { atMs, by, api } = leg.pendingHangup;
        leg.pendingHangup = undefined;
        waiter.resume({ by, atMs: Math.max(atMs, waiter.since), ...(api ? { api } : {}) });
        return;
      }
      if (leg.pendingRedirect) {
        const target = leg.pendingRedirect;
        leg.pendingRedirect = undefined;
        waiter.resume({ by: "redirect", atMs: waiter.since, target });
        return;
      }
    }
    this.wakeIdle();
  }

  private wakeIdle(): void {
    if (this.active > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** A bug in the engine must not become an unhandled rejection: report it and end the leg. */
  private internalError(leg: Leg, error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.error(leg, 20500, `sandbox internal error: ${message}`);
    if (FINAL.has(leg.status)) return;
    leg.status = leg.answerMs === null ? "failed" : "completed";
    leg.endMs = this.at(leg);
    leg.duration = leg.answerMs === null ? null : Math.round((leg.endMs - leg.answerMs) / 1000);
    leg.updated = new Date(leg.endMs);
    this.logStatus(leg);
  }

  // ------------------------------------------------------------------ helpers

  private at(leg: Leg): number {
    return this.host.clock.now().getTime() + leg.offsetMs;
  }

  private advance(leg: Leg, seconds: number): void {
    leg.offsetMs += seconds * 1000;
  }

  /** Virtual time only moves forward. */
  private moveTo(leg: Leg, ms: number): void {
    const now = this.at(leg);
    if (ms > now) leg.offsetMs += ms - now;
  }

  private callParams(leg: Leg, status: CallStatus = leg.status): Record<string, string> {
    return {
      CallSid: leg.sid,
      AccountSid: this.host.accountSid,
      From: leg.from,
      To: leg.to,
      CallStatus: status,
      ApiVersion: API_VERSION,
      Direction: leg.direction,
      // Legacy names still sent by Twilio (sheet §3).
      Caller: leg.from,
      Called: leg.to,
      ...(leg.parentCallSid ? { ParentCallSid: leg.parentCallSid } : {}),
    };
  }

  /** Requests a URL for `leg`; failures are logged with `failCode` (11200 non-2xx) or 11205 (no connection). */
  private async send(
    leg: Leg,
    url: string,
    method: Method,
    params: Record<string, string>,
    failCode: number,
  ): Promise<HttpAnswer | null> {
    let answer: HttpAnswer;
    try {
      answer = await this.host.request(url, method, params);
    } catch (error) {
      this.error(leg, 11205, `HTTP connection failure: ${url}: ${error instanceof Error ? error.message : String(error)}`);
      return null;
    }
    if (answer.status < 200 || answer.status > 299) {
      this.error(leg, failCode, `HTTP ${answer.status} from ${method} ${url}`);
      return null;
    }
    return answer;
  }

  private error(leg: Leg, code: number, message: string): void {
    this.host.log({ type: "error", callSid: leg.sid, code, message });
  }

  /** Relative URLs resolve against the current document's URL, as in a browser. */
  private resolveUrl(leg: Leg, raw: string): string | undefined {
    try {
      return new URL(raw, leg.docUrl).toString();
    } catch {
      this.error(leg, 11100, `Invalid URL: ${raw || "(empty)"}${leg.docUrl ? "" : " (no document URL to resolve against)"}`);
      return undefined;
    }
  }

  /** `action` defaults to the current document's URL (sheet §4 Gather, Record). */
  private actionUrl(leg: Leg, action: string | undefined): string | undefined {
    if (action !== undefined) return this.resolveUrl(leg, action);
    if (leg.docUrl !== undefined) return leg.docUrl;
    // A document from the Twiml parameter has no URL to fall back on.
    this.error(leg, 11100, "no action URL and the document has no URL (Twiml parameter)");
    return undefined;
  }

  private recordingUrl(recordingSid: string): string {
    return `https://api.twilio.com/2010-04-01/Accounts/${this.host.accountSid}/Recordings/${recordingSid}`;
  }

  private targetFrom(form: Record<string, string | string[]>, urlKey: string, methodKey: string): Target | undefined {
    const url = first(form, urlKey);
    if (url !== undefined && url !== "") {
      if (!/^https?:\/\//i.test(url) || !URL.canParse(url)) throw new TwilioApiError(400, 21205, `Invalid Url: ${url}`);
      return { url, method: methodOf(first(form, methodKey)) };
    }
    const twiml = first(form, "Twiml");
    if (twiml !== undefined && twiml !== "") {
      // Sheet §3: Twiml is at most 4000 characters. The error code for a longer
      // one is UNCONFIRMED; refusing it at once is the safe side.
      if (twiml.length > 4000) throw new TwilioApiError(400, 21205, "Twiml parameter is longer than 4000 characters");
      return { twiml };
    }
    return undefined;
  }

  private callbackFrom(url: string | undefined, method: string | undefined, events: readonly string[]): StatusCallback | undefined {
    if (url === undefined || url === "") return undefined;
    // Sheet §3: no events given -> only "completed". Unknown names are ignored.
    const known = events.filter((e) => ["initiated", "ringing", "answered", "completed"].includes(e));
    return { url, method: methodOf(method), events: new Set(known.length > 0 ? known : ["completed"]) };
  }

  private numberSid(number: string): string {
    const existing = this.numberSids.get(number);
    if (existing) return existing;
    const sid = newSid("PN");
    this.numberSids.set(number, sid);
    return sid;
  }

  private mustGet(sid: string): Leg {
    const leg = this.legs.get(sid);
    if (!leg) throw new TwilioApiError(404, 20404, `The requested resource /2010-04-01/Accounts/${this.host.accountSid}/Calls/${sid}.json was not found`);
    return leg;
  }

  private resource(leg: Leg): CallResource {
    const base = `/2010-04-01/Accounts/${this.host.accountSid}/Calls/${leg.sid}`;
    const date = (ms: number | null): string | null => (ms === null ? null : rfc2822(new Date(ms)));
    return {
      sid: leg.sid,
      date_created: rfc2822(leg.created),
      date_updated: rfc2822(leg.updated),
      parent_call_sid: leg.parentCallSid,
      account_sid: this.host.accountSid,
      to: leg.to,
      to_formatted: formatNumber(leg.to),
      from: leg.from,
      from_formatted: formatNumber(leg.from),
      phone_number_sid: leg.phoneNumberSid,
      status: leg.status === "initiated" ? "queued" : leg.status,
      start_time: date(leg.startMs),
      end_time: date(leg.endMs),
      duration: leg.duration === null ? null : String(leg.duration),
      price: null,
      price_unit: "USD",
      direction: leg.direction,
      answered_by: null,
      api_version: API_VERSION,
      forwarded_from: null,
      group_sid: null,
      caller_name: null,
      queue_time: "0",
      trunk_sid: null,
      uri: `${base}.json`,
      subresource_uris: {
        notifications: `${base}/Notifications.json`,
        recordings: `${base}/Recordings.json`,
        payments: `${base}/Payments.json`,
        events: `${base}/Events.json`,
        siprec: `${base}/Siprec.json`,
        streams: `${base}/Streams.json`,
        transcriptions: `${base}/Transcriptions.json`,
        user_defined_message_subscriptions: `${base}/UserDefinedMessageSubscriptions.json`,
        user_defined_messages: `${base}/UserDefinedMessages.json`,
      },
    };
  }
}

// ------------------------------------------------------------ pure helpers

function sayEvent(callSid: string, verb: TwimlNode): CallEvent {
  return {
    type: "say",
    callSid,
    text: verb.text,
    ...(verb.attrs.voice !== undefined ? { voice: verb.attrs.voice } : {}),
    ...(verb.attrs.language !== undefined ? { language: verb.attrs.language } : {}),
  };
}

/** What every participant event carries (docs, statusCallback parameters); nothing in the sandbox holds or coaches. */
function participantParams(member: Member): Record<string, string> {
  return {
    CallSid: member.leg.sid,
    Muted: String(member.muted),
    Hold: "false",
    Coaching: "false",
    EndConferenceOnExit: String(member.endOnExit),
    StartConferenceOnEnter: String(member.startOnEnter),
    ...(member.label !== undefined ? { ParticipantLabel: member.label } : {}),
  };
}

function first(form: Record<string, string | string[]>, key: string): string | undefined {
  const value = form[key];
  return Array.isArray(value) ? value[0] : value;
}

function all(form: Record<string, string | string[]>, key: string): string[] {
  const value = form[key];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(/\s+/)).filter((v) => v !== "");
}

function intOr(raw: string | undefined, fallback: number): number {
  if (raw === undefined || !/^\s*-?\d+\s*$/.test(raw)) return fallback;
  return Number.parseInt(raw, 10);
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function methodOf(raw: string | undefined): Method {
  return raw?.toUpperCase() === "GET" ? "GET" : "POST";
}

/** NANP numbers as "(415) 867-5309" (as in the spec's example); others stay E.164. */
function formatNumber(number: string): string {
  const nanp = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number);
  return nanp ? `(${nanp[1]}) ${nanp[2]}-${nanp[3]}` : number;
}

/**
 * What <Gather> keeps of the keys pressed: up to finishOnKey (not included)
 * or numDigits. `complete` is false when it would still wait for more.
 */
export function collectDigits(
  pressed: string,
  numDigits: number | undefined,
  finishOnKey: string,
): { digits: string; complete: boolean } {
  let digits = "";
  for (const key of pressed) {
    if (finishOnKey !== "" && key === finishOnKey) return { digits, complete: true };
    digits += key;
    if (numDigits !== undefined && numDigits > 0 && digits.length >= numDigits) return { digits, complete: true };
  }
  return { digits, complete: false };
}
