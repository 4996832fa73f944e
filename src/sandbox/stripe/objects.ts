/**
 * JSON renderings of the sandbox's records in Stripe's shapes (fact sheet §6,
 * spec 2023-08-16). Fields the spec has but the sandbox does not model are
 * null or empty, as on a fresh test-mode object.
 */
import type { AccountLinkRecord, AccountRecord, PayoutRecord, ReversalRecord, StripeSandboxState, TransferRecord } from "./state.js";

/**
 * What a fresh Express account must still provide. The exact list depends on
 * country and capabilities at Stripe (UNCONFIRMED); these are typical US ones.
 */
const EXPRESS_CURRENTLY_DUE = ["business_type", "external_account", "tos_acceptance.date", "tos_acceptance.ip"];

export function accountObject(account: AccountRecord) {
  const due = account.onboarded ? [] : EXPRESS_CURRENTLY_DUE;
  const requirements = {
    alternatives: [],
    current_deadline: null,
    currently_due: due,
    // UNCONFIRMED: which reason a brand-new account shows.
    disabled_reason: account.onboarded ? null : "requirements.past_due",
    errors: [],
    eventually_due: due,
    past_due: due,
    pending_verification: [],
  };
  return {
    id: account.id,
    object: "account",
    business_profile: { mcc: null, name: null, product_description: null, support_email: null, support_phone: null, support_url: null, url: null },
    business_type: account.onboarded ? "individual" : null,
    capabilities: account.transfersRequested ? { transfers: account.onboarded ? "active" : "inactive" } : {},
    // The sandbox has no charges; completing onboarding enables them as Stripe would for a US Express account.
    charges_enabled: account.onboarded,
    controller: {
      fees: { payer: account.feesPayer },
      is_controller: true,
      losses: { payments: account.lossesPayments },
      requirement_collection: account.requirementCollection,
      stripe_dashboard: { type: account.dashboard },
      type: "application",
    },
    country: account.country,
    created: account.created,
    default_currency: "usd",
    details_submitted: account.onboarded,
    email: account.email,
    external_accounts: { object: "list", data: [], has_more: false, total_count: 0, url: `/v1/accounts/${account.id}/external_accounts` },
    future_requirements: { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] },
    metadata: account.metadata,
    payouts_enabled: account.onboarded,
    requirements,
    settings: { payouts: { debit_negative_balances: true, schedule: { delay_days: 2, interval: "daily" }, statement_descriptor: null } },
    tos_acceptance: { date: null },
    type: account.type,
  };
}

/** A capability object (`capability.updated`'s data.object). */
export function capabilityObject(account: AccountRecord, id: "transfers") {
  const due = account.onboarded ? [] : EXPRESS_CURRENTLY_DUE;
  const requirements = {
    alternatives: [],
    current_deadline: null,
    currently_due: due,
    disabled_reason: account.onboarded ? null : "requirements.past_due",
    errors: [],
    eventually_due: due,
    past_due: due,
    pending_verification: [],
  };
  return {
    id,
    object: "capability",
    account: account.id,
    future_requirements: { alternatives: [], current_deadline: null, currently_due: [], disabled_reason: null, errors: [], eventually_due: [], past_due: [], pending_verification: [] },
    requested: account.transfersRequested,
    requested_at: account.transfersRequested ? account.created : null,
    requirements,
    status: account.transfersRequested ? (account.onboarded ? "active" : "inactive") : "unrequested",
  };
}

export function accountLinkObject(link: AccountLinkRecord, baseUrl: string) {
  return { object: "account_link", created: link.created, expires_at: link.expiresAt, url: `${baseUrl}/sandbox/stripe/onboard/${link.id}` };
}

/** A page of GET /v1/transfers/{id}/reversals, in Stripe's list shape. */
export function reversalListObject(transfer: TransferRecord, page: { data: ReversalRecord[]; hasMore: boolean }) {
  return { object: "list", data: page.data.map((reversal) => reversalObject(reversal, transfer)), has_more: page.hasMore, url: `/v1/transfers/${transfer.id}/reversals` };
}

export function reversalObject(reversal: ReversalRecord, transfer: TransferRecord) {
  return {
    id: reversal.id,
    object: "transfer_reversal",
    amount: reversal.amount,
    balance_transaction: reversal.balanceTransaction,
    created: reversal.created,
    currency: reversal.currency,
    destination_payment_refund: reversal.destinationPaymentRefund,
    metadata: reversal.metadata,
    source_refund: null,
    transfer: transfer.id,
  };
}

/** How many reversals a transfer object embeds. */
export const EMBEDDED_REVERSALS = 10;

export function transferObject(transfer: TransferRecord) {
  const newest = transfer.reversals.slice(-EMBEDDED_REVERSALS).reverse();
  return {
    id: transfer.id,
    object: "transfer",
    amount: transfer.amount,
    amount_reversed: transfer.amountReversed,
    balance_transaction: transfer.balanceTransaction,
    created: transfer.created,
    currency: transfer.currency,
    description: transfer.description,
    destination: transfer.destination,
    destination_payment: transfer.destinationPayment,
    livemode: false,
    metadata: transfer.metadata,
    // Only the 10 most recent reversals, newest first (spec: "the 10 most recent reversals are always
    // available by default on the transfer object"); the rest are at `url`. total_count is not in the
    // 2023 spec's TransferReversalList (which allows extra fields); that Stripe sends it here is recalled
    // from its API reference examples (UNCONFIRMED). The product must not rely on it.
    reversals: {
      object: "list",
      data: newest.map((reversal) => reversalObject(reversal, transfer)),
      has_more: transfer.reversals.length > newest.length,
      total_count: transfer.reversals.length,
      url: `/v1/transfers/${transfer.id}/reversals`,
    },
    // True only once fully reversed (fact sheet §6).
    reversed: transfer.amountReversed >= transfer.amount,
    source_transaction: null,
    source_type: "card",
    transfer_group: transfer.transferGroup,
  };
}

/** The platform's balance, or (with Stripe-Account) a connected account's. */
export function balanceObject(state: StripeSandboxState, account?: AccountRecord) {
  const available = account ? account.balance : state.available;
  const pending = account ? new Map<string, number>() : state.pending;
  const currencies = new Set([...available.keys(), ...pending.keys()]);
  if (currencies.size === 0) currencies.add("usd");
  const entries = (map: Map<string, number>) =>
    [...currencies].sort().map((currency) => ({ amount: map.get(currency) ?? 0, currency, source_types: { card: map.get(currency) ?? 0 } }));
  return { object: "balance", available: entries(available), livemode: false, pending: entries(pending) };
}

export function payoutObject(payout: PayoutRecord) {
  return {
    id: payout.id,
    object: "payout",
    amount: payout.amount,
    arrival_date: payout.arrivalDate,
    automatic: payout.automatic,
    balance_transaction: payout.balanceTransaction,
    created: payout.created,
    currency: payout.currency,
    description: payout.description,
    destination: payout.destination,
    failure_balance_transaction: null,
    failure_code: payout.failureCode,
    failure_message: payout.failureMessage,
    livemode: false,
    metadata: payout.metadata,
    method: payout.method,
    original_payout: null,
    reconciliation_status: "not_applicable",
    reversed_by: null,
    source_type: "card",
    statement_descriptor: payout.statementDescriptor,
    status: payout.status,
    type: "bank_account",
  };
}
