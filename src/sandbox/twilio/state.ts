/**
 * The sandbox's world, in memory: the numbers the account owns, the
 * simulated phones (each with an inbox), messages, Twilio-side opt-outs,
 * and a log of everything for the /sandbox page and for tests.
 */
import type { Clock } from "../../lib/clock.js";
import type { PhoneBehavior } from "./voice/engine.js";

export interface OwnedNumber {
  sid: string;
  phoneNumber: string;
  smsUrl: string | null;
  smsMethod: "GET" | "POST";
  voiceUrl: string | null;
  voiceMethod: "GET" | "POST";
  statusCallback: string | null;
  dateCreated: Date;
}

export interface PhoneMessage {
  sid: string;
  direction: "received" | "sent";
  /** The other party. */
  peer: string;
  body: string;
  at: Date;
  status: string;
}

export interface SimulatedPhone {
  number: string;
  messages: PhoneMessage[];
  /** How it answers calls. */
  voice: PhoneBehavior;
  /** When set, messages to this phone fail with this Twilio error code (30003 unreachable, 30006 landline, ...). */
  failWith: number | null;
}

export interface MessageRecord {
  sid: string;
  from: string;
  to: string;
  body: string;
  status: string;
  direction: "inbound" | "outbound-api" | "outbound-reply";
  errorCode: number | null;
  statusCallback: string | null;
  dateCreated: Date;
  dateUpdated: Date;
  dateSent: Date | null;
}

export type CallbackOrder = "in-order" | "reversed" | "duplicated";

export interface SandboxEvent {
  at: Date;
  kind: string;
  detail: Record<string, unknown>;
}

export class SandboxState {
  readonly numbers = new Map<string, OwnedNumber>();
  readonly phones = new Map<string, SimulatedPhone>();
  readonly messages = new Map<string, MessageRecord>();
  /** Twilio blocks a pair after STOP: "<phone>|<platform number>". */
  readonly blocked = new Set<string>();
  readonly events: SandboxEvent[] = [];
  /** Requests the project sent that the official spec forbids (tests expect none). */
  readonly contractViolations: { method: string; path: string; violations: string[] }[] = [];
  settings = { callbackOrder: "in-order" as CallbackOrder, autoReplies: true };
  /** The next `count` REST requests fail like this (429 Too Many Requests, 500, ...), to exercise retries. */
  faults: { status: number; code: number; message: string; count: number }[] = [];
  private nextNumber = 100;

  constructor(
    readonly accountSid: string,
    readonly authToken: string,
    readonly clock: Clock,
  ) {}

  phone(number: string): SimulatedPhone {
    let phone = this.phones.get(number);
    if (!phone) {
      phone = { number, messages: [], voice: { answer: "answer" }, failWith: null };
      this.phones.set(number, phone);
    }
    return phone;
  }

  /**
   * Numbers for sale: +1 (415) 555-01xx, the range reserved for fiction, so a
   * sandbox number can never be a real person's.
   */
  availableNumbers(count: number): string[] {
    const free: string[] = [];
    for (let candidate = this.nextNumber; free.length < count && candidate < 200; candidate++) {
      const number = `+1415555${String(candidate).padStart(4, "0")}`;
      if (!this.numbers.has(number)) free.push(number);
    }
    return free;
  }

  /** Marks a number as owned by the account (bought earlier, e.g. before a restart), with its webhooks. */
  own(phoneNumber: string, urls: { sms: string; voice: string; callStatus: string }, sid: string): void {
    this.numbers.set(phoneNumber, {
      sid,
      phoneNumber,
      smsUrl: urls.sms,
      smsMethod: "POST",
      voiceUrl: urls.voice,
      voiceMethod: "POST",
      statusCallback: urls.callStatus,
      dateCreated: this.clock.now(),
    });
    this.takeNumber(phoneNumber);
  }

  takeNumber(number: string): void {
    if (!number.startsWith("+1415555")) return;
    const suffix = Number(number.slice(-4));
    if (suffix >= this.nextNumber) this.nextNumber = suffix + 1;
  }

  log(kind: string, detail: Record<string, unknown>): void {
    this.events.push({ at: this.clock.now(), kind, detail });
    if (this.events.length > 2000) this.events.splice(0, this.events.length - 2000);
  }
}
