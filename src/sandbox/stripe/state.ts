/**
 * The Stripe sandbox's world, in memory: the platform's balance, connected
 * accounts, account links, transfers and their reversals, the idempotency
 * keys, the rate limit, injected faults and a log for tests. Operations that
 * change money live here so tests and the onboarding page call the same code
 * as the REST routes.
 */
import { unixSeconds, type Clock } from "./clock.js";
import { invalidRequest, resourceMissing, StripeApiError } from "./errors.js";
import { IdempotencyStore, type IdempotencyEntrySnapshot } from "./idempotency.js";
import { newId } from "./ids.js";
import { accountObject, capabilityObject, payoutObject, transferObject } from "./objects.js";
import { TokenBucket } from "./rate-limit.js";
import { EventLog, type DeliveryRecord, type WebhookEndpoint } from "./webhooks.js";

export type DashboardType = "express" | "full" | "none";

export interface AccountRecord {
  id: string;
  created: number;
  /** What the account was created with: `type` (deprecated) or controller properties. */
  type: "standard" | "express" | "custom" | "none";
  dashboard: DashboardType;
  feesPayer: string;
  lossesPayments: string;
  requirementCollection: "stripe" | "application";
  country: string;
  email: string | null;
  metadata: Record<string, string>;
  transfersRequested: boolean;
  onboarded: boolean;
  /** The connected account's own balance (what transfers bring, what reversals take back). */
  balance: Map<string, number>;
}

export interface AccountLinkRecord {
  id: string;
  account: string;
  type: "account_onboarding" | "account_update";
  refreshUrl: string;
  returnUrl: string;
  created: number;
  expiresAt: number;
  /** Single use: the first visit spends it (fact sheet §1). */
  visited: boolean;
  finished: boolean;
}

/** The state file's content (see state-file.ts). */
export interface StripeSnapshot {
  available: Record<string, number>;
  pending: Record<string, number>;
  accounts: (Omit<AccountRecord, "balance"> & { balance: Record<string, number> })[];
  accountLinks: AccountLinkRecord[];
  transfers: TransferRecord[];
  payouts: PayoutRecord[];
  deliveries: DeliveryRecord[];
  idempotency: IdempotencyEntrySnapshot[];
}

export interface ReversalRecord {
  id: string;
  amount: number;
  created: number;
  currency: string;
  metadata: Record<string, string>;
  description: string | null;
  transfer: string;
  balanceTransaction: string;
  destinationPaymentRefund: string;
}

export interface TransferRecord {
  id: string;
  amount: number;
  amountReversed: number;
  created: number;
  currency: string;
  description: string | null;
  destination: string;
  destinationPayment: string;
  balanceTransaction: string;
  metadata: Record<string, string>;
  transferGroup: string | null;
  reversals: ReversalRecord[];
}

export type PayoutStatus = "pending" | "in_transit" | "paid" | "failed" | "canceled";

export interface PayoutRecord {
  id: string;
  /** The connected account it pays out of (Stripe-Account). */
  account: string;
  amount: number;
  currency: string;
  created: number;
  arrivalDate: number;
  description: string | null;
  metadata: Record<string, string>;
  method: "standard" | "instant";
  statementDescriptor: string | null;
  /** Made by the account's payout schedule (the dashboard's "Pay out now"), not by an API call. */
  automatic: boolean;
  status: PayoutStatus;
  failureCode: string | null;
  failureMessage: string | null;
  balanceTransaction: string;
  destination: string;
}

export interface Fault {
  /** Only requests whose path matches (all when absent). */
  path?: string | RegExp;
  remaining: number;
  error: StripeApiError;
}

export interface SandboxEvent {
  at: Date;
  kind: string;
  detail: Record<string, unknown>;
}

export interface Hold {
  path: string | RegExp;
  /** Resolves when a matching request has reached the hold (the key is then in use). */
  reached: Promise<void>;
  release(): void;
}

interface HoldEntry {
  path: string | RegExp;
  arrive: () => void;
  gate: Promise<void>;
}

export function pathMatches(path: string, pattern: string | RegExp | undefined): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === "string" ? path === pattern : pattern.test(path);
}

/** A page of a Stripe list: `limit` (default 10) objects after `startingAfter`, or the `limit` just before `endingBefore`. */
export interface ListPage {
  limit?: number;
  startingAfter?: string;
  endingBefore?: string;
}

/** Pages `all` (already in list order, newest first) as Stripe's cursors do; an unknown cursor gives an empty page. */
export function pageOf<T extends { id: string }>(all: readonly T[], page: ListPage): { data: T[]; hasMore: boolean } {
  const limit = page.limit ?? 10;
  if (page.endingBefore !== undefined) {
    const index = all.findIndex((item) => item.id === page.endingBefore);
    const before = index < 0 ? [] : all.slice(0, index);
    return { data: before.slice(Math.max(0, before.length - limit)), hasMore: before.length > limit };
  }
  let start = 0;
  if (page.startingAfter !== undefined) {
    const index = all.findIndex((item) => item.id === page.startingAfter);
    start = index < 0 ? all.length : index + 1;
  }
  return { data: all.slice(start, start + limit), hasMore: all.length > start + limit };
}

export class StripeSandboxState {
  readonly accounts = new Map<string, AccountRecord>();
  readonly accountLinks = new Map<string, AccountLinkRecord>();
  readonly transfers = new Map<string, TransferRecord>();
  readonly payouts = new Map<string, PayoutRecord>();
  /** The platform's balance per currency, in minor units. */
  readonly available = new Map<string, number>();
  readonly pending = new Map<string, number>();
  readonly idempotency: IdempotencyStore;
  readonly events: SandboxEvent[] = [];
  /** Requests the project sent that Stripe's spec forbids (tests expect none); filled by the contract hook. */
  readonly contractViolations: { method: string; path: string; violations: string[] }[] = [];
  /** Parameters the 2023 spec does not declare (newer API versions): reported, not refused. */
  readonly contractUnknownParams: { method: string; path: string; unknownParams: string[] }[] = [];
  /** Every request that reached the sandbox, in order (after auth), for tests to count retries. */
  readonly requests: { method: string; path: string; idempotencyKey: string | undefined }[] = [];
  faults: Fault[] = [];
  /** Transfers whose connection is dropped once created (the transfer exists, no response is sent). */
  dropAfterTransferCreated = 0;
  /** Events the sandbox emitted (and their signed deliveries, when a webhook endpoint is set). */
  readonly eventLog: EventLog;
  /** The API request being executed, for events' `request` (execution is synchronous, so one at a time). */
  currentRequest: { id: string; idempotencyKey: string | undefined } | undefined;
  /** Called after every change worth keeping (the state file's writer listens here). */
  onChange: (() => void) | undefined;
  private bucket: TokenBucket | undefined;
  private holds: HoldEntry[] = [];

  constructor(
    readonly secretKey: string,
    readonly clock: Clock,
    webhook?: WebhookEndpoint,
  ) {
    this.idempotency = new IdempotencyStore(clock, () => this.changed());
    this.eventLog = new EventLog(clock, webhook, undefined, () => this.changed());
  }

  /** Tells the state file something changed. */
  changed(): void {
    this.onChange?.();
  }

  // ---- persistence ----

  /** True while nothing was ever recorded (a fresh sandbox, not one read back from its file). */
  get isEmpty(): boolean {
    return this.accounts.size === 0 && this.transfers.size === 0 && this.payouts.size === 0 && this.available.size === 0 && this.eventLog.deliveries.length === 0;
  }

  /** What the state file keeps: money, accounts, links, transfers, payouts, events and idempotency keys. */
  snapshot(): StripeSnapshot {
    return {
      available: Object.fromEntries(this.available),
      pending: Object.fromEntries(this.pending),
      accounts: [...this.accounts.values()].map((account) => ({ ...account, balance: Object.fromEntries(account.balance) })),
      accountLinks: [...this.accountLinks.values()],
      transfers: [...this.transfers.values()],
      payouts: [...this.payouts.values()],
      deliveries: this.eventLog.deliveries,
      idempotency: this.idempotency.snapshot(),
    };
  }

  /** Takes back what a snapshot holds (at start, before anything else happened). */
  restore(snapshot: StripeSnapshot): void {
    for (const [currency, amount] of Object.entries(snapshot.available)) this.available.set(currency, amount);
    for (const [currency, amount] of Object.entries(snapshot.pending)) this.pending.set(currency, amount);
    for (const account of snapshot.accounts) this.accounts.set(account.id, { ...account, balance: new Map(Object.entries(account.balance)) });
    for (const link of snapshot.accountLinks) this.accountLinks.set(link.id, link);
    for (const transfer of snapshot.transfers) this.transfers.set(transfer.id, transfer);
    for (const payout of snapshot.payouts) this.payouts.set(payout.id, payout);
    this.eventLog.restore(snapshot.deliveries);
    this.idempotency.restore(snapshot.idempotency);
  }

  private emit(type: string, object: unknown, options: { account?: string; previous?: Record<string, unknown> } = {}): void {
    this.eventLog.emit(type, object, { ...options, ...(this.currentRequest ? { request: this.currentRequest } : {}) });
  }

  log(kind: string, detail: Record<string, unknown>): void {
    this.events.push({ at: this.clock.now(), kind, detail });
    if (this.events.length > 2000) this.events.splice(0, this.events.length - 2000);
  }

  // ---- rate limit and faults ----

  /** Requests per second beyond which the sandbox answers 429 rate_limit; null lifts the limit. */
  setRateLimit(perSecond: number | null): void {
    this.bucket = perSecond === null ? undefined : new TokenBucket(perSecond, this.clock);
  }

  get rateLimit(): number | null {
    return this.bucket?.perSecond ?? null;
  }

  /** False when the request is over the limit. */
  takeRateToken(): boolean {
    return this.bucket ? this.bucket.take() : true;
  }

  /** The next `count` requests (matching `path`, if given) fail with a 500 api_error, or the given error. */
  failNext(count: number, options: { path?: string | RegExp; error?: StripeApiError } = {}): void {
    const error =
      options.error ?? new StripeApiError(500, { type: "api_error", message: "An unknown error occurred" }, { "Stripe-Should-Retry": "false" });
    this.faults.push({ remaining: count, error, ...(options.path !== undefined ? { path: options.path } : {}) });
  }

  /**
   * A 429 lock_timeout (contention on one object), which Stripe asks clients
   * to retry: `Stripe-Should-Retry: true` (stripe-dotnet issue 1886: the
   * libraries retry lock timeouts, not rate limits). Wording UNCONFIRMED.
   */
  lockTimeoutNext(count: number, path?: string | RegExp): void {
    this.failNext(count, {
      ...(path !== undefined ? { path } : {}),
      error: new StripeApiError(
        429,
        {
          type: "invalid_request_error",
          code: "lock_timeout",
          message: "This object cannot be accessed right now because another API request or Stripe process is currently accessing it.",
          doc_url: "https://stripe.com/docs/error-codes/lock-timeout",
        },
        { "Stripe-Should-Retry": "true" },
      ),
    });
  }

  /** The fault for this request, if one is armed (and counts it). */
  takeFault(path: string): StripeApiError | undefined {
    const index = this.faults.findIndex((fault) => pathMatches(path, fault.path));
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault.error;
  }

  /**
   * Holds the next request matching `path` after it has claimed its
   * idempotency key and before it runs, so a test can send a concurrent one.
   */
  holdNext(path: string | RegExp): Hold {
    let arrive!: () => void;
    let release!: () => void;
    const reached = new Promise<void>((resolve) => (arrive = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.holds.push({ path, arrive, gate });
    return { path, reached, release };
  }

  /** Waits at a hold set for this path, if any. */
  async passHold(path: string): Promise<void> {
    const index = this.holds.findIndex((hold) => pathMatches(path, hold.path));
    const hold = this.holds[index];
    if (!hold) return;
    this.holds.splice(index, 1);
    hold.arrive();
    await hold.gate;
  }

  // ---- balance ----

  /** Adds to the platform's available balance (what settled charges would do). */
  topUp(amount: number, currency = "usd"): void {
    if (!Number.isSafeInteger(amount) || amount < 1) throw new Error("a top-up is a positive whole number of minor units");
    const key = currency.toLowerCase();
    this.available.set(key, (this.available.get(key) ?? 0) + amount);
    this.log("balance-topped-up", { amount, currency: key });
    this.changed();
  }

  /** Empties the platform's available balance in a currency (or takes `amount` of it). */
  drain(currency = "usd", amount?: number): void {
    const key = currency.toLowerCase();
    const current = this.available.get(key) ?? 0;
    if (amount !== undefined && (!Number.isSafeInteger(amount) || amount < 1)) throw new Error("a drain is a positive whole number of minor units");
    // The platform's balance does not go below zero here: drain what is there at most.
    const taken = amount === undefined ? current : Math.min(current, amount);
    this.available.set(key, current - taken);
    this.log("balance-drained", { currency: key, amount: taken });
    this.changed();
  }

  availableBalance(currency = "usd"): number {
    return this.available.get(currency.toLowerCase()) ?? 0;
  }

  // ---- accounts ----

  addAccount(account: Omit<AccountRecord, "id" | "created" | "onboarded" | "balance">): AccountRecord {
    const record: AccountRecord = { ...account, id: newId("acct", 16), created: unixSeconds(this.clock), onboarded: false, balance: new Map() };
    this.accounts.set(record.id, record);
    this.log("account-created", { id: record.id, dashboard: record.dashboard });
    this.changed();
    return record;
  }

  account(id: string, param = "id"): AccountRecord {
    const account = this.accounts.get(id);
    // UNCONFIRMED wording for accounts: Stripe may answer 403 for an account not connected to the platform.
    if (!account) throw resourceMissing("account", id, param);
    return account;
  }

  addAccountLink(link: AccountLinkRecord): AccountLinkRecord {
    this.accountLinks.set(link.id, link);
    this.log("account-link-created", { account: link.account, type: link.type });
    this.changed();
    return link;
  }

  /**
   * What the onboarding form does once the expert finished: details
   * submitted, charges and payouts enabled, transfers active, requirements
   * cleared. Fires `account.updated` and, when transfers were requested,
   * `capability.updated`: both Connect events, carrying the account's id
   * (fact sheet §1, §2).
   */
  completeOnboarding(accountId: string): AccountRecord {
    const account = this.account(accountId);
    if (account.onboarded) return account;
    const before = accountObject(account);
    account.onboarded = true;
    this.log("onboarding-completed", { account: accountId });
    const after = accountObject(account);
    const previous: Record<string, unknown> = {
      business_type: before.business_type,
      charges_enabled: before.charges_enabled,
      details_submitted: before.details_submitted,
      payouts_enabled: before.payouts_enabled,
      requirements: before.requirements,
    };
    if (account.transfersRequested) previous.capabilities = before.capabilities;
    this.emit("account.updated", after, { account: account.id, previous });
    if (account.transfersRequested) {
      this.emit("capability.updated", capabilityObject(account, "transfers"), { account: account.id, previous: { status: "inactive" } });
    }
    this.changed();
    return account;
  }

  // ---- transfers ----

  transfer(id: string): TransferRecord {
    const transfer = this.transfers.get(id);
    if (!transfer) throw resourceMissing("transfer", id, "id");
    return transfer;
  }

  createTransfer(input: {
    amount: number;
    currency: string;
    destination: string;
    description: string | null;
    metadata: Record<string, string>;
    transferGroup: string | null;
  }): TransferRecord {
    const destination = this.accounts.get(input.destination);
    // UNCONFIRMED wording.
    if (!destination) throw invalidRequest(`No such destination: '${input.destination}'`, { code: "resource_missing", param: "destination" });
    if (!(destination.transfersRequested && destination.onboarded)) {
      // Transfers need capabilities.transfers active (fact sheet §1 [F]); code and wording UNCONFIRMED.
      throw invalidRequest(
        "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
        { code: "insufficient_capabilities_for_transfer", param: "destination" },
      );
    }
    if (this.availableBalance(input.currency) < input.amount) {
      // The code is sourced [J][K][L]; the message is Stripe's test-mode wording as recalled (UNCONFIRMED).
      throw invalidRequest(
        "You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card. See: https://stripe.com/docs/testing#available-balance",
        { code: "balance_insufficient" },
      );
    }
    this.available.set(input.currency, this.availableBalance(input.currency) - input.amount);
    destination.balance.set(input.currency, (destination.balance.get(input.currency) ?? 0) + input.amount);
    const record: TransferRecord = {
      id: newId("tr"),
      amount: input.amount,
      amountReversed: 0,
      created: unixSeconds(this.clock),
      currency: input.currency,
      description: input.description,
      destination: input.destination,
      destinationPayment: newId("py"),
      balanceTransaction: newId("txn"),
      metadata: input.metadata,
      transferGroup: input.transferGroup,
      reversals: [],
    };
    this.transfers.set(record.id, record);
    this.log("transfer-created", { id: record.id, amount: record.amount, currency: record.currency, destination: record.destination });
    this.emit("transfer.created", transferObject(record));
    this.changed();
    return record;
  }

  reverseTransfer(transferId: string, input: { amount?: number; description: string | null; metadata: Record<string, string> }): ReversalRecord {
    const transfer = this.transfer(transferId);
    const remaining = transfer.amount - transfer.amountReversed;
    if (remaining <= 0) {
      // "an over-limit or repeat-full reversal errors" [M]; wording UNCONFIRMED.
      throw invalidRequest(`Transfer ${transfer.id} has already been fully reversed.`);
    }
    const amount = input.amount ?? remaining;
    if (amount > remaining) {
      // Wording UNCONFIRMED.
      throw invalidRequest(`You have attempted to reverse more than the remaining amount of this transfer (${remaining}).`, { param: "amount" });
    }
    const destination = this.account(transfer.destination, "destination");
    const held = destination.balance.get(transfer.currency) ?? 0;
    if (held < amount) {
      // The connected account's balance must cover a reversal [J]; code and wording UNCONFIRMED.
      throw invalidRequest("The destination account has insufficient funds to cover this reversal.", { code: "balance_insufficient" });
    }
    destination.balance.set(transfer.currency, held - amount);
    this.available.set(transfer.currency, this.availableBalance(transfer.currency) + amount);
    const reversal: ReversalRecord = {
      id: newId("trr"),
      amount,
      created: unixSeconds(this.clock),
      currency: transfer.currency,
      metadata: input.metadata,
      description: input.description,
      transfer: transfer.id,
      balanceTransaction: newId("txn"),
      destinationPaymentRefund: newId("pyr"),
    };
    // previous_attributes holds what changed: `reversed` only when this reversal completes it.
    const previous: Record<string, unknown> = { amount_reversed: transfer.amountReversed };
    transfer.reversals.push(reversal);
    transfer.amountReversed += amount;
    if (transfer.amountReversed >= transfer.amount) previous.reversed = false;
    // Emitted for partial reversals too (fact sheet §2 [N]). A platform event: the
    // transfer is the platform's object, so no `account`.
    this.emit("transfer.reversed", transferObject(transfer), { previous });
    this.log("transfer-reversed", { id: reversal.id, transfer: transfer.id, amount });
    this.changed();
    return reversal;
  }

  // ---- payouts on connected accounts ----

  /**
   * Transfers newest first, as GET /v1/transfers lists them, optionally only
   * those of a destination or a transfer group; a page of `limit` after (or
   * before) a transfer id.
   */
  listTransfers(filter: { destination?: string; transferGroup?: string } & ListPage = {}): {
    data: TransferRecord[];
    hasMore: boolean;
  } {
    const all = [...this.transfers.values()]
      .reverse()
      .filter((transfer) => (filter.destination === undefined || transfer.destination === filter.destination) && (filter.transferGroup === undefined || transfer.transferGroup === filter.transferGroup));
    return pageOf(all, filter);
  }

  /** A transfer's reversals newest first, as GET /v1/transfers/{id}/reversals lists them; a page of `limit` after (or before) a reversal id. */
  listReversals(transferId: string, page: ListPage = {}): { data: ReversalRecord[]; hasMore: boolean } {
    return pageOf([...this.transfer(transferId).reversals].reverse(), page);
  }

  /** A connected account's available balance (what transfers brought, minus reversals and payouts). */
  accountBalance(accountId: string, currency = "usd"): number {
    return this.account(accountId).balance.get(currency.toLowerCase()) ?? 0;
  }

  payout(accountId: string, id: string): PayoutRecord {
    const payout = this.payouts.get(id);
    if (!payout || payout.account !== accountId) throw resourceMissing("payout", id, "payout");
    return payout;
  }

  createPayout(
    accountId: string,
    input: { amount: number; currency: string; description: string | null; metadata: Record<string, string>; method: "standard" | "instant"; statementDescriptor: string | null; automatic?: boolean },
  ): PayoutRecord {
    const account = this.account(accountId);
    if (!account.onboarded) {
      // Code and wording UNCONFIRMED.
      throw invalidRequest("Payouts are not enabled for this account: it has not completed onboarding.", { code: "payouts_not_allowed" });
    }
    const held = account.balance.get(input.currency) ?? 0;
    if (held < input.amount) {
      // Code sourced for transfers [L]; for payouts UNCONFIRMED, wording UNCONFIRMED.
      throw invalidRequest("You have insufficient funds in your Stripe account for this transfer.", { code: "balance_insufficient" });
    }
    account.balance.set(input.currency, held - input.amount);
    const created = unixSeconds(this.clock);
    const payout: PayoutRecord = {
      id: newId("po"),
      account: accountId,
      ...input,
      automatic: input.automatic ?? false,
      created,
      // UNCONFIRMED: a standard payout's arrival; two days is a common US schedule.
      arrivalDate: created + (input.method === "instant" ? 0 : 2 * 86_400),
      status: "pending",
      failureCode: null,
      failureMessage: null,
      balanceTransaction: newId("txn"),
      destination: newId("ba"),
    };
    this.payouts.set(payout.id, payout);
    this.log("payout-created", { id: payout.id, account: accountId, amount: payout.amount, automatic: payout.automatic });
    this.emit("payout.created", payoutObject(payout), { account: accountId });
    this.changed();
    return payout;
  }

  /**
   * Moves a payout on, as the bank would: `in_transit`, then `paid` or
   * `failed` (funds back on the connected account). Statuses never go back.
   * Events: payout.updated for each change, plus payout.paid / payout.failed
   * (fact sheet §2 [N]); all are Connect events.
   */
  settlePayout(accountId: string, id: string, outcome: "in_transit" | "paid" | "failed", failure?: { code: string; message: string }): PayoutRecord {
    const payout = this.payout(accountId, id);
    const order: PayoutStatus[] = ["pending", "in_transit", "paid"];
    const final = payout.status === "paid" || payout.status === "failed" || payout.status === "canceled";
    // "Some failed payouts may initially show as paid" [M]: paid -> failed is allowed.
    const allowed = outcome === "failed" ? payout.status !== "failed" && payout.status !== "canceled" : !final && order.indexOf(outcome) > order.indexOf(payout.status);
    if (!allowed) throw new Error(`payout ${id} is ${payout.status}: it cannot become ${outcome}`);
    const previous = { status: payout.status };
    payout.status = outcome;
    if (outcome === "failed") {
      payout.failureCode = failure?.code ?? "account_closed";
      payout.failureMessage = failure?.message ?? "The bank account has been closed.";
      const account = this.account(accountId);
      account.balance.set(payout.currency, (account.balance.get(payout.currency) ?? 0) + payout.amount);
    }
    this.log("payout-settled", { id, account: accountId, status: outcome });
    this.emit("payout.updated", payoutObject(payout), { account: accountId, previous });
    if (outcome !== "in_transit") this.emit(`payout.${outcome}`, payoutObject(payout), { account: accountId });
    this.changed();
    return payout;
  }

  /**
   * The dashboard's "Pay out now": what the account's automatic payout
   * schedule does, at once. One automatic payout per currency of the
   * connected account's whole available balance, then paid (or, with
   * `fail`, failed with that failure code: the money goes back to the
   * account). Events: payout.created, payout.updated, payout.paid or
   * payout.failed, each with `account`. Throws when there is nothing to pay.
   */
  payOutNow(accountId: string, options: { fail?: { code: string; message: string } } = {}): PayoutRecord[] {
    const account = this.account(accountId);
    const currencies = [...account.balance.entries()].filter(([, amount]) => amount > 0).map(([currency]) => currency).sort();
    if (currencies.length === 0) throw new Error(`${accountId} has no available balance to pay out`);
    return currencies.map((currency) => {
      const payout = this.createPayout(accountId, {
        amount: account.balance.get(currency) ?? 0,
        currency,
        description: "STRIPE PAYOUT",
        metadata: {},
        method: "standard",
        statementDescriptor: null,
        automatic: true,
      });
      return options.fail ? this.settlePayout(accountId, payout.id, "failed", options.fail) : this.settlePayout(accountId, payout.id, "paid");
    });
  }
}
