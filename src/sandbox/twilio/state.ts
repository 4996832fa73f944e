/**
 * The sandbox's world: the numbers the account owns, the simulated phones
 * (each with an inbox), messages, Twilio-side opt-outs, and a log of
 * everything for the /sandbox page and for tests.
 *
 * Like the real Twilio, the sandbox remembers what an account owns across
 * restarts: with a state file (see state-file.ts) every change is saved, and
 * the file is read back at start. Calls, the event log, settings and injected
 * faults live in memory only.
 */
import type { Clock } from "./clock.js";
import { availableNumbers, supplyAreaOf, type SupplyFilter } from "./number-supply.js";
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

/** What the state file holds: everything an account would find again after a restart. */
export interface SandboxSnapshot {
  accountSid: string;
  numbers: OwnedNumber[];
  messages: MessageRecord[];
  blocked: string[];
  phones: SimulatedPhone[];
}

/**
 * Messages kept (oldest dropped first). Real Twilio keeps them for years; a
 * local sandbox that runs for weeks must not grow its memory and state file
 * without bound.
 */
export const MAX_MESSAGES = 10_000;

/**
 * Messages kept in each simulated phone's inbox (oldest dropped first): the
 * inboxes are saved too, so without their own cap they would grow the state
 * file past MAX_MESSAGES. A phone's page shows its recent conversation only.
 */
export const MAX_PHONE_MESSAGES = 500;

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
  /** Called after every change worth keeping across a restart (the state file listens). */
  onChange: (() => void) | undefined;

  constructor(
    readonly accountSid: string,
    readonly authToken: string,
    readonly clock: Clock,
  ) {}

  /** Tells the state file (if any) that something it keeps has changed. */
  changed(): void {
    this.onChange?.();
  }

  phone(number: string): SimulatedPhone {
    let phone = this.phones.get(number);
    if (!phone) {
      phone = { number, messages: [], voice: { answer: "answer" }, failWith: null };
      this.phones.set(number, phone);
    }
    return phone;
  }

  /**
   * Numbers for sale (see number-supply.ts): every number of the fictional
   * range that nobody uses, neither the account nor a simulated phone.
   */
  availableNumbers(count: number, filter: SupplyFilter = {}): string[] {
    return availableNumbers(count, filter, (number) => this.isTaken(number));
  }

  isForSale(number: string): boolean {
    return supplyAreaOf(number) !== undefined && !this.isTaken(number);
  }

  private isTaken(number: string): boolean {
    return this.numbers.has(number) || this.phones.has(number);
  }

  /** Adds a number to the account (bought through the API). */
  addNumber(owned: OwnedNumber): void {
    this.numbers.set(owned.phoneNumber, owned);
    this.changed();
  }

  /** Marks a number as owned by the account with the app's webhooks (tests: a number bought earlier). */
  own(phoneNumber: string, urls: { sms: string; voice: string; callStatus: string }, sid: string): void {
    this.addNumber({
      sid,
      phoneNumber,
      smsUrl: urls.sms,
      smsMethod: "POST",
      voiceUrl: urls.voice,
      voiceMethod: "POST",
      statusCallback: urls.callStatus,
      dateCreated: this.clock.now(),
    });
  }

  addMessage(record: MessageRecord): void {
    this.messages.set(record.sid, record);
    for (const sid of this.messages.keys()) {
      if (this.messages.size <= MAX_MESSAGES) break;
      this.messages.delete(sid);
    }
    this.changed();
  }

  /** Adds to a phone's inbox, dropping its oldest beyond MAX_PHONE_MESSAGES. The caller reports the change. */
  addPhoneMessage(phone: SimulatedPhone, message: PhoneMessage): void {
    phone.messages.push(message);
    trimToNewest(phone.messages, MAX_PHONE_MESSAGES);
  }

  log(kind: string, detail: Record<string, unknown>): void {
    this.events.push({ at: this.clock.now(), kind, detail });
    if (this.events.length > 2000) this.events.splice(0, this.events.length - 2000);
  }

  snapshot(): SandboxSnapshot {
    return {
      accountSid: this.accountSid,
      numbers: [...this.numbers.values()],
      messages: [...this.messages.values()],
      blocked: [...this.blocked],
      phones: [...this.phones.values()],
    };
  }

  /** Takes back what a snapshot holds (at start, before anything else happened). */
  restore(snapshot: SandboxSnapshot): void {
    if (snapshot.accountSid !== this.accountSid) {
      throw new Error(`the sandbox state belongs to account ${snapshot.accountSid}, not ${this.accountSid}`);
    }
    for (const number of snapshot.numbers) this.numbers.set(number.phoneNumber, number);
    for (const message of snapshot.messages) this.messages.set(message.sid, message);
    for (const pair of snapshot.blocked) this.blocked.add(pair);
    for (const phone of snapshot.phones) {
      // A file saved before inboxes were capped may hold more.
      trimToNewest(phone.messages, MAX_PHONE_MESSAGES);
      this.phones.set(phone.number, phone);
    }
  }
}

function trimToNewest(items: unknown[], max: number): void {
  if (items.length > max) items.splice(0, items.length - max);
}
