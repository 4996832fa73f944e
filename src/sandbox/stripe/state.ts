/**
 * The Stripe sandbox's world, in memory: the platform's balance, connected
 * accounts, account links, transfers and their reversals, the idempotency
 * keys, the rate limit, injected faults and a log for tests. Operations that
 * change money live here so tests and the onboarding page call the same code
 * as the REST routes.
 */
import { unixSeconds, type Clock } from "./clock.js";
import { invalidRequest, resourceMissing, StripeApiError } from "./errors.js";
import { IdempotencyStore } from "./idempotency.js";
import { newId } from "./ids.js";
import { accountObject, payoutObject, transferObject } from "./objects.js";
import { TokenBucket } from "./rate-limit.js";
import { EventLog, type WebhookEndpoint } from "./webhooks.js";

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
  private bucket: TokenBucket | undefined;
  private holds: HoldEntry[] = [];

  constructor(
    readonly secretKey: string,
    readonly clock: Clock,
    webhook?: WebhookEndpoint,
  ) {
    this.idempotency = new IdempotencyStore(clock);
    this.eventLog = new EventLog(clock, webhook);
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
    const key = currency.toLowerCase();
    this.available.set(key, (this.available.get(key) ?? 0) + amount);
    this.log("balance-topped-up", { amount, currency: key });
  }

  /** Empties the platform's available balance in a currency (or takes `amount` of it). */
  drain(currency = "usd", amount?: number): void {
    const key = currency.toLowerCase();
    const current = this.available.get(key) ?? 0;
    this.available.set(key, amount === undefined ? 0 : current - amount);
    this.log("balance-drained", { currency: key, amount: amount ?? current });
  }

  availableBalance(currency = "usd"): number {
    return this.available.get(currency.toLowerCase()) ?? 0;
  }

  // ---- accounts ----

  addAccount(account: Omit<AccountRecord, "id" | "created" | "onboarded" | "balance">): AccountRecord {
    const record: AccountRecord = { ...account, id: newId("acct", 16), created: unixSeconds(this.clock), onboarded: false, balance: new Map() };
    this.accounts.set(record.id, record);
    this.log("account-created", { id: record.id, dashboard: record.dashboard });
    return record;
  }

  account(id: string, param = "id"): AccountRecord {
    const account = this.accounts.get(id);
    // UNCONFIRMED wording for accounts: Stripe may answer 403 for an account not connected to the platform.
    if (!account) throw resourceMissing("account", id, param);
    return account;
  }

  /** What the onboarding form does once the expert finished: transfers active, payouts enabled, requirements cleared. */
  completeOnboarding(accountId: string): AccountRecord {
    const account = this.account(accountId);
    if (account.onboarded) return account;
    const before = accountObject(account);
    account.onboarded = true;
    this.log("onboarding-completed", { account: accountId });
    // A Connect event: it carries the connected account's id (fact sheet §2).
    this.emit("account.updated", accountObject(account), {
      account: account.id,
      previous: {
        capabilities: before.capabilities,
        details_submitted: before.details_submitted,
        payouts_enabled: before.payouts_enabled,
        requirements: before.requirements,
      },
    });
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
    const previous = { amount_reversed: transfer.amountReversed, reversed: false };
    transfer.reversals.push(reversal);
    transfer.amountReversed += amount;
    // Emitted for partial reversals too (fact sheet §2 [N]).
    this.emit("transfer.reversed", transferObject(transfer), { previous });
    this.log("transfer-reversed", { id: reversal.id, transfer: transfer.id, amount });
    return reversal;
  }

  // ---- payouts on connected accounts ----

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
    input: { amount: number; currency: string; description: string | null; metadata: Record<string, string>; method: "standard" | "instant"; statementDescriptor: string | null },
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
    this.log("payout-created", { id: payout.id, account: accountId, amount: payout.amount });
    this.emit("payout.created", payoutObject(payout), { account: accountId });
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
    return payout;
  }
}
