import { describe, expect, it } from "vitest";
import { STRIPE_EVENT_OBJECT_FIELDS, stripeEventFacts } from "./stripe-event-facts.js";

/** An account as account.updated carries it, personal data included (abridged from Stripe's Account object). */
function accountWithPersonalData() {
  return {
    id: "acct_1",
    object: "account",
    business_profile: { name: "Dan's Brewing", support_phone: "+15555550100", url: "https://dan.example" },
    business_type: "individual",
    capabilities: { transfers: "active", card_payments: "inactive" },
    charges_enabled: false,
    country: "US",
    created: 1_767_261_600,
    default_currency: "usd",
    details_submitted: true,
    email: "dan@example.com",
    external_accounts: {
      object: "list",
      data: [{ id: "ba_1", object: "bank_account", account_holder_name: "Dan Brewer", last4: "6789", routing_number: "110000000" }],
    },
    individual: { first_name: "Dan", last_name: "Brewer", phone: "+15555550101", dob: { day: 1, month: 2, year: 1980 }, ssn_last_4_provided: true },
    metadata: { expertId: "01890a5d-ac96-774b-bcce-b302099a8057", note: "call +15555550102" },
    payouts_enabled: true,
    requirements: {
      alternatives: [],
      current_deadline: 1_767_300_000,
      currently_due: ["external_account"],
      disabled_reason: "requirements.past_due",
      errors: [{ code: "invalid_address_zip", reason: "The ZIP 12345 does not match", requirement: "individual.address.postal_code" }],
      eventually_due: ["individual.id_number"],
      past_due: ["external_account"],
      pending_verification: [],
    },
    settings: { payouts: { schedule: { interval: "daily" } } },
    tos_acceptance: { date: 1_767_261_000, ip: "203.0.113.7" },
    type: "express",
  };
}

describe("stripeEventFacts", () => {
  it("keeps of an account only what the handlers read: no email, phones, person, bank accounts or other metadata", () => {
    const facts = stripeEventFacts(accountWithPersonalData());
    expect(facts).toEqual({
      id: "acct_1",
      object: "account",
      capabilities: { transfers: "active" },
      charges_enabled: false,
      created: 1_767_261_600,
      details_submitted: true,
      metadata: { expertId: "01890a5d-ac96-774b-bcce-b302099a8057" },
      payouts_enabled: true,
      requirements: {
        current_deadline: 1_767_300_000,
        currently_due: ["external_account"],
        disabled_reason: "requirements.past_due",
        errors: [{ code: "invalid_address_zip", requirement: "individual.address.postal_code" }],
        eventually_due: ["individual.id_number"],
        past_due: ["external_account"],
        pending_verification: [],
      },
      type: "express",
    });
    const text = JSON.stringify(facts);
    for (const secret of ["dan@example.com", "+1555555010", "6789", "110000000", "Brewer", "203.0.113.7", "12345"]) expect(text).not.toContain(secret);
  });

  it("keeps what the transfer and payout handlers read", () => {
    const transfer = { id: "tr_1", object: "transfer", amount: 1200, amount_reversed: 300, currency: "usd", created: 1, destination: "acct_1", reversals: { data: [{ id: "trr_1" }] } };
    expect(stripeEventFacts(transfer)).toEqual({ id: "tr_1", object: "transfer", amount: 1200, amount_reversed: 300, currency: "usd", created: 1 });
    const payout = {
      id: "po_1",
      object: "payout",
      amount: 900,
      automatic: true,
      created: 2,
      currency: "usd",
      destination: "ba_1",
      failure_code: "account_closed",
      failure_message: "The bank account has been closed",
      status: "failed",
      type: "bank_account",
      metadata: { payoutId: "p1", refundId: "r1", other: "x" },
    };
    expect(stripeEventFacts(payout)).toEqual({
      id: "po_1",
      object: "payout",
      amount: 900,
      automatic: true,
      created: 2,
      currency: "usd",
      failure_code: "account_closed",
      failure_message: "The bank account has been closed",
      status: "failed",
      type: "bank_account",
      metadata: { payoutId: "p1", refundId: "r1" },
    });
    expect(stripeEventFacts({ id: "transfers", object: "capability", account: "acct_9", status: "active" })).toEqual({
      id: "transfers",
      object: "capability",
      account: "acct_9",
      status: "active",
    });
  });

  it("a whitelisted field holding an object (expanded, or a changed shape) is left out, not copied", () => {
    expect(
      stripeEventFacts({
        id: "x",
        account: { id: "acct_1", email: "dan@example.com" },
        type: ["a", "b"],
        status: ["ok", { email: "dan@example.com" }],
        capabilities: { transfers: { status: "active", phone: "+15555550100" } },
        metadata: { expertId: { email: "dan@example.com" } },
      }),
    ).toEqual({ id: "x", type: ["a", "b"], capabilities: {}, metadata: {} });
    // Left out, not kept as an undefined key.
    expect(Object.keys(stripeEventFacts({ id: "x", account: { id: "acct_1" }, requirements: "x", status: [{}] }))).toEqual(["id"]);
  });

  it("a nested shape keeps a null, leaves out anything that is not an object, and an array keeps only its objects' fields", () => {
    expect(stripeEventFacts({ requirements: null, metadata: null, capabilities: null })).toEqual({ requirements: null, metadata: null, capabilities: null });
    expect(stripeEventFacts({ requirements: "x", metadata: ["expertId"], capabilities: 3 })).toEqual({});
    expect(stripeEventFacts({ requirements: { errors: null } })).toEqual({ requirements: { errors: null } });
    expect(stripeEventFacts({ requirements: { errors: "x" } })).toEqual({ requirements: {} });
    expect(stripeEventFacts({ requirements: { errors: { code: "c" } } })).toEqual({ requirements: {} });
    expect(stripeEventFacts({ requirements: { errors: [{ code: "c", reason: "r" }, "loose", null, ["x"], { requirement: "q" }] } })).toEqual({
      requirements: { errors: [{ code: "c" }, { requirement: "q" }] },
    });
  });

  it("keeps primitives of every kind, missing fields stay missing, and inherited ones are not read", () => {
    expect(stripeEventFacts({ id: "x", amount: 0, automatic: false, failure_code: null, failure_message: "" })).toEqual({
      id: "x",
      amount: 0,
      automatic: false,
      failure_code: null,
      failure_message: "",
    });
    expect(stripeEventFacts({})).toEqual({});
    expect(Object.keys(stripeEventFacts({ id: "x" }))).toEqual(["id"]);
    const inherited = Object.create({ id: "inherited", metadata: { expertId: "e" } }) as Record<string, unknown>;
    inherited.object = "account";
    expect(stripeEventFacts(inherited)).toEqual({ object: "account" });
  });

  it("returns new objects and arrays: the event is not changed, and changing the facts does not change it", () => {
    const account = accountWithPersonalData();
    const before = structuredClone(account);
    const facts = stripeEventFacts(account) as { requirements: { currently_due: string[] } };
    expect(account).toEqual(before);
    expect(facts.requirements.currently_due).not.toBe(account.requirements.currently_due);
    facts.requirements.currently_due.push("more");
    expect(account.requirements.currently_due).toEqual(["external_account"]);
  });

  it("the whitelist is the one the handlers were reviewed against", () => {
    expect(Object.keys(STRIPE_EVENT_OBJECT_FIELDS).sort()).toEqual(
      [
        "id",
        "object",
        "account",
        "created",
        "currency",
        "amount",
        "amount_reversed",
        "status",
        "automatic",
        "failure_code",
        "failure_message",
        "payouts_enabled",
        "charges_enabled",
        "details_submitted",
        "type",
        "capabilities",
        "requirements",
        "metadata",
      ].sort(),
    );
  });
});
