/**
 * GET /sandbox/stripe: what a Stripe Dashboard would show of the sandbox,
 * on one server-rendered page: the platform's balance (top up, drain),
 * connected accounts and their onboarding, transfers and reversals, payouts
 * on connected accounts ("Pay out now", or make it fail) and the recent
 * events with their delivery status. Forms post back and redirect here
 * (post/redirect/get), so a reload never repeats an action.
 */
import type { FastifyInstance } from "fastify";
import formbody from "@fastify/formbody";
import { unixSeconds } from "./clock.js";
import { escapeHtml, sendPage } from "./html.js";
import type { AccountRecord, StripeSandboxState } from "./state.js";
import type { DeliveryRecord } from "./webhooks.js";

/** Currencies without a minor unit (fact sheet §7). */
const ZERO_DECIMAL = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);

function decimals(currency: string): number {
  return ZERO_DECIMAL.has(currency.toLowerCase()) ? 0 : 2;
}

/** 100000000 usd -> "1,000,000.00 USD" (minor units in, never floats). */
export function formatMinor(amount: number, currency: string): string {
  const places = decimals(currency);
  const sign = amount < 0 ? "-" : "";
  const digits = String(Math.abs(amount)).padStart(places + 1, "0");
  const whole = digits.slice(0, digits.length - places).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const fraction = places > 0 ? `.${digits.slice(-places)}` : "";
  return `${sign}${whole}${fraction} ${currency.toUpperCase()}`;
}

/** "250", "250.5", "250.50" -> minor units; undefined when it is not a positive amount in that currency. */
export function parseMajor(text: string, currency: string): number | undefined {
  const places = decimals(currency);
  const match = /^(\d{1,12})(?:\.(\d+))?$/.exec(text.trim().replaceAll(",", ""));
  if (!match) return undefined;
  const fraction = match[2] ?? "";
  if (fraction.length > places) return undefined;
  const minor = Number(match[1]) * 10 ** places + Number(fraction.padEnd(places, "0") || "0");
  return Number.isSafeInteger(minor) && minor > 0 ? minor : undefined;
}

function when(unix: number): string {
  return new Date(unix * 1000).toISOString().replace(".000Z", "Z");
}

function yesNo(value: boolean): string {
  return value ? `<span class="ok">yes</span>` : `<span class="bad">no</span>`;
}

/** What the account's latest onboarding link did. */
function linkState(state: StripeSandboxState, account: AccountRecord): string {
  const links = [...state.accountLinks.values()].filter((link) => link.account === account.id);
  const latest = links.at(-1);
  const count = links.length > 1 ? ` (${links.length} links)` : "";
  if (account.onboarded) return `completed${count}`;
  if (!latest) return "no link yet";
  if (latest.finished) return `exited without completing${count}`;
  if (latest.visited) return `opened, not finished${count}`;
  if (unixSeconds(state.clock) >= latest.expiresAt) return `expired unused${count}`;
  return `open until ${when(latest.expiresAt)}${count}`;
}

function deliveryState(delivery: DeliveryRecord, sending: boolean): string {
  const last = delivery.attempts.at(-1);
  if (!sending) return `<span class="muted">not sent (no webhook endpoint)</span>`;
  if (!last) return "sending";
  const attempts = delivery.attempts.length > 1 ? `, ${delivery.attempts.length} attempts` : "";
  const resend = `<form class="inline" method="post" action="/sandbox/stripe/events/${escapeHtml(delivery.event.id)}/resend"><button>Resend</button></form>`;
  if (last.status !== null && last.status >= 200 && last.status < 300) return `<span class="ok">delivered (${last.status}${attempts})</span> ${resend}`;
  return `<span class="bad">failed (${last.status ?? escapeHtml(last.error ?? "no answer")}${attempts})</span> ${resend}`;
}

function table(headings: string[], rows: string[][], empty: string): string {
  if (rows.length === 0) return `<p class="muted">${escapeHtml(empty)}</p>`;
  return `<table><thead><tr>${headings.map((heading) => `<th>${escapeHtml(heading)}</th>`).join("")}</tr></thead><tbody>${rows
    .map((cells) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join("")}</tr>`)
    .join("")}</tbody></table>`;
}

const code = (value: unknown) => (value === null || value === undefined || value === "" ? `<span class="muted">-</span>` : `<code>${escapeHtml(value)}</code>`);

export function renderDashboard(state: StripeSandboxState, options: { notice?: string; error?: string; sending: boolean }): string {
  const currencies = new Set([...state.available.keys(), ...state.pending.keys(), "usd"]);
  const balanceRows = [...currencies].sort().map((currency) => [
    escapeHtml(currency.toUpperCase()),
    `<span data-balance="${escapeHtml(currency)}">${escapeHtml(formatMinor(state.available.get(currency) ?? 0, currency))}</span>`,
    escapeHtml(formatMinor(state.pending.get(currency) ?? 0, currency)),
  ]);

  const accounts = [...state.accounts.values()].reverse();
  const accountRows = accounts.map((account) => {
    const balances = [...account.balance.entries()].filter(([, amount]) => amount !== 0);
    const payable = balances.some(([, amount]) => amount > 0);
    const actions = payable
      ? `<form class="inline" method="post" action="/sandbox/stripe/accounts/${escapeHtml(account.id)}/payout">
<button name="action" value="pay">Pay out now</button><button name="action" value="fail">Fail it</button>
<select name="failure_code" aria-label="failure code"><option>account_closed</option><option>no_account</option><option>account_frozen</option><option>could_not_process</option></select></form>`
      : `<span class="muted">nothing to pay out</span>`;
    return [
      `<code data-account="${escapeHtml(account.id)}">${escapeHtml(account.id)}</code>${account.email ? `<br><span class="muted">${escapeHtml(account.email)}</span>` : ""}`,
      escapeHtml(account.dashboard),
      `<span data-field="payouts_enabled">${yesNo(account.onboarded)}</span>`,
      `<span data-field="details_submitted">${yesNo(account.onboarded)}</span>`,
      escapeHtml(account.transfersRequested ? (account.onboarded ? "active" : "inactive") : "not requested"),
      escapeHtml(linkState(state, account)),
      balances.length > 0 ? balances.map(([currency, amount]) => escapeHtml(formatMinor(amount, currency))).join("<br>") : escapeHtml(formatMinor(0, "usd")),
      Object.keys(account.metadata).length > 0 ? Object.entries(account.metadata).map(([key, value]) => `${escapeHtml(key)}=${escapeHtml(value)}`).join("<br>") : "",
      actions,
    ];
  });

  const transfers = [...state.transfers.values()].reverse();
  const transferRows = transfers.map((transfer) => [
    code(transfer.id),
    escapeHtml(formatMinor(transfer.amount, transfer.currency)),
    code(transfer.destination),
    code(transfer.transferGroup),
    escapeHtml(formatMinor(transfer.amountReversed, transfer.currency)),
    transfer.amountReversed >= transfer.amount ? "yes" : "no",
    escapeHtml(when(transfer.created)),
  ]);
  const reversalRows = transfers
    .flatMap((transfer) => transfer.reversals)
    .sort((a, b) => b.created - a.created)
    .map((reversal) => [code(reversal.id), code(reversal.transfer), escapeHtml(formatMinor(reversal.amount, reversal.currency)), escapeHtml(when(reversal.created))]);
  const payoutRows = [...state.payouts.values()].reverse().map((payout) => [
    code(payout.id),
    code(payout.account),
    escapeHtml(formatMinor(payout.amount, payout.currency)),
    `<span data-status="${escapeHtml(payout.status)}">${escapeHtml(payout.status)}</span>`,
    payout.automatic ? "automatic" : "API",
    code(payout.failureCode),
    escapeHtml(when(payout.created)),
  ]);
  const eventRows = state.eventLog.deliveries
    .slice(-100)
    .reverse()
    .map((delivery) => [code(delivery.event.id), escapeHtml(delivery.event.type), code(delivery.event.account), escapeHtml(when(delivery.event.created)), deliveryState(delivery, options.sending)]);

  const violations = state.contractViolations.length;
  return `<h1>Stripe sandbox</h1>
<p class="muted">Stripe's API for the app (test mode, Connect), in memory and in its state file. The app's <code>stripe</code> SDK
talks to it through <code>STRIPE_API_BASE_URL</code>; its signed events go to the app's <code>/stripe/webhook</code>.
<a href="/sandbox/stripe">Refresh</a></p>
${options.notice ? `<p class="notice" role="status">${escapeHtml(options.notice)}</p>` : ""}${options.error ? `<p class="notice error" role="alert">${escapeHtml(options.error)}</p>` : ""}
${violations > 0 ? `<p class="notice error">${violations} request(s) broke Stripe's official spec: see the sandbox's log.</p>` : ""}
<h2>Platform balance</h2>
${table(["Currency", "Available", "Pending"], balanceRows, "")}
<form class="inline" method="post" action="/sandbox/stripe/balance">
<label>Amount <input name="amount" placeholder="e.g. 500.00" size="12"></label>
<select name="currency" aria-label="currency">${[...currencies].sort().map((currency) => `<option value="${escapeHtml(currency)}">${escapeHtml(currency.toUpperCase())}</option>`).join("")}</select>
<button name="action" value="top-up">Top up</button>
<button name="action" value="drain">Drain (empty amount: all)</button>
</form>
<h2>Connected accounts (${accounts.length})</h2>
${table(["Account", "Dashboard", "Payouts enabled", "Details submitted", "Transfers", "Onboarding link", "Balance", "Metadata", ""], accountRows, "No connected accounts yet.")}
<h2>Transfers (${transfers.length})</h2>
${table(["Transfer", "Amount", "Destination", "Transfer group", "Reversed amount", "Fully reversed", "Created"], transferRows, "No transfers yet.")}
<h2>Reversals (${reversalRows.length})</h2>
${table(["Reversal", "Transfer", "Amount", "Created"], reversalRows, "No reversals yet.")}
<h2>Payouts on connected accounts (${state.payouts.size})</h2>
${table(["Payout", "Account", "Amount", "Status", "Made by", "Failure code", "Created"], payoutRows, "No payouts yet.")}
<h2>Recent events</h2>
${table(["Event", "Type", "Account", "Created", "Delivery"], eventRows, "No events yet.")}`;
}

function back(notice: { notice?: string; error?: string }): string {
  const query = new URLSearchParams(notice as Record<string, string>).toString();
  return `/sandbox/stripe${query ? `?${query}` : ""}`;
}

export async function registerDashboardPage(app: FastifyInstance, { state, sending }: { state: StripeSandboxState; sending: boolean }) {
  await app.register(async (pages) => {
    await pages.register(formbody);

    pages.get<{ Querystring: { notice?: string; error?: string } }>("/sandbox/stripe", async (request, reply) => {
      const notice = typeof request.query.notice === "string" ? request.query.notice.slice(0, 300) : undefined;
      const error = typeof request.query.error === "string" ? request.query.error.slice(0, 300) : undefined;
      return sendPage(reply, "Stripe sandbox", renderDashboard(state, { sending, ...(notice ? { notice } : {}), ...(error ? { error } : {}) }));
    });

    pages.post<{ Body: { action?: string; amount?: string; currency?: string } }>("/sandbox/stripe/balance", async (request, reply) => {
      const body = request.body ?? {};
      const currency = (body.currency ?? "usd").trim().toLowerCase();
      if (!/^[a-z]{3}$/.test(currency)) return reply.redirect(back({ error: "The currency is a three-letter code, e.g. usd." }), 303);
      const text = (body.amount ?? "").trim();
      const amount = text === "" ? undefined : parseMajor(text, currency);
      if (text !== "" && amount === undefined) return reply.redirect(back({ error: `"${text}" is not a positive amount of ${currency.toUpperCase()}.` }), 303);
      if (body.action === "top-up") {
        if (amount === undefined) return reply.redirect(back({ error: "Say how much to top up." }), 303);
        state.topUp(amount, currency);
        return reply.redirect(back({ notice: `Topped up ${formatMinor(amount, currency)}.` }), 303);
      }
      if (body.action === "drain") {
        const before = state.availableBalance(currency);
        state.drain(currency, amount);
        return reply.redirect(back({ notice: `Drained ${formatMinor(before - state.availableBalance(currency), currency)}.` }), 303);
      }
      return reply.redirect(back({ error: "Unknown action." }), 303);
    });

    pages.post<{ Params: { id: string } }>("/sandbox/stripe/events/:id/resend", async (request, reply) => {
      try {
        const delivery = await state.eventLog.redeliver(request.params.id);
        const last = delivery.attempts.at(-1);
        return reply.redirect(back({ notice: `Resent ${delivery.event.id} (${delivery.event.type}): ${last?.status ?? last?.error ?? "no answer"}.` }), 303);
      } catch (error) {
        return reply.redirect(back({ error: error instanceof Error ? error.message : String(error) }), 303);
      }
    });

    pages.post<{ Params: { id: string }; Body: { action?: string; failure_code?: string } }>("/sandbox/stripe/accounts/:id/payout", async (request, reply) => {
      const body = request.body ?? {};
      if (!state.accounts.has(request.params.id)) return reply.redirect(back({ error: `No such account: ${request.params.id}` }), 303);
      const failureCode = /^[a-z_]{1,40}$/.test(body.failure_code ?? "") ? (body.failure_code as string) : "account_closed";
      try {
        const payouts =
          body.action === "fail"
            ? state.payOutNow(request.params.id, { fail: { code: failureCode, message: FAILURE_MESSAGES[failureCode] ?? "The payout failed." } })
            : state.payOutNow(request.params.id);
        const summary = payouts.map((payout) => `${payout.id} ${formatMinor(payout.amount, payout.currency)} ${payout.status}`).join(", ");
        return reply.redirect(back({ notice: `Payout ${summary}.` }), 303);
      } catch (error) {
        return reply.redirect(back({ error: error instanceof Error ? error.message : String(error) }), 303);
      }
    });
  });
}

/** Stripe's payout failure messages, as recalled (UNCONFIRMED wording). */
const FAILURE_MESSAGES: Record<string, string> = {
  account_closed: "The bank account has been closed.",
  no_account: "The bank account details on file are probably incorrect. No bank account could be located with those details.",
  account_frozen: "The bank account has been frozen.",
  could_not_process: "The bank could not process this payout.",
};
