/**
 * Stripe events and their signed delivery (fact sheet §5):
 * - the body is the event JSON; `Stripe-Signature: t=<unix>,v1=<hex>` where
 *   v1 = HMAC-SHA256(whsec secret, `${t}.${rawBody}`), t from the sandbox clock;
 * - each attempt gets a new t and signature;
 * - Connect events (about a connected account) carry a top-level `account`.
 * One attempt per event for now: Stripe's test-mode retries ("3 times over a
 * few hours") are not simulated; a failed attempt is recorded in the event.
 */
import { createHmac } from "node:crypto";
import { unixSeconds, type Clock } from "./clock.js";
import { newId } from "./ids.js";

/** The API version events are rendered for: the 2023 spec's (UNCONFIRMED: an account's default version). */
export const DEFAULT_EVENT_API_VERSION = "2023-08-16";

export interface StripeEvent {
  id: string;
  object: "event";
  account?: string;
  api_version: string;
  created: number;
  data: { object: unknown; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null } | null;
  type: string;
}

export interface DeliveryRecord {
  event: StripeEvent;
  attempts: { at: number; status: number | null; error?: string }[];
}

export type StripeWebhookSender = (request: { url: string; body: string; headers: Record<string, string> }) => Promise<{ status: number }>;

export function stripeSignatureHeader(secret: string, body: string, timestamp: number): string {
  const v1 = createHmac("sha256", secret).update(`${timestamp}.${body}`, "utf8").digest("hex");
  return `t=${timestamp},v1=${v1}`;
}

/** Real HTTP POST with Stripe's headers. */
export function httpStripeSender(timeoutMs = 30_000): StripeWebhookSender {
  return async ({ url, body, headers }) => {
    const response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return { status: response.status };
  };
}

export interface WebhookEndpoint {
  url: string;
  secret: string;
  sender: StripeWebhookSender;
}

export class EventLog {
  readonly deliveries: DeliveryRecord[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly clock: Clock,
    private readonly endpoint: WebhookEndpoint | undefined,
    private readonly apiVersion = DEFAULT_EVENT_API_VERSION,
    /** Called when an event or an attempt is recorded (the state file listens). */
    private readonly onChange: () => void = () => {},
  ) {}

  /** Takes back events read from the state file (not delivered again). */
  restore(deliveries: readonly DeliveryRecord[]): void {
    this.deliveries.push(...deliveries);
  }

  get events(): StripeEvent[] {
    return this.deliveries.map((delivery) => delivery.event);
  }

  emit(
    type: string,
    object: unknown,
    options: { account?: string; previous?: Record<string, unknown>; request?: { id: string; idempotencyKey: string | undefined } } = {},
  ): StripeEvent {
    const event: StripeEvent = {
      id: newId("evt"),
      object: "event",
      ...(options.account ? { account: options.account } : {}),
      api_version: this.apiVersion,
      created: unixSeconds(this.clock),
      data: { object, ...(options.previous ? { previous_attributes: options.previous } : {}) },
      livemode: false,
      pending_webhooks: this.endpoint ? 1 : 0,
      request: options.request ? { id: options.request.id, idempotency_key: options.request.idempotencyKey ?? null } : null,
      type,
    };
    const delivery: DeliveryRecord = { event, attempts: [] };
    this.deliveries.push(delivery);
    if (this.deliveries.length > 2000) this.deliveries.splice(0, this.deliveries.length - 2000);
    if (this.endpoint) this.track(this.deliver(this.endpoint, delivery));
    return event;
  }

  /**
   * Sends an event again, as Stripe's retries and the Dashboard's "Resend"
   * do: the same event (same id, so receivers must dedupe), a new `t` and
   * signature. Resolves once the attempt has an answer.
   */
  async redeliver(eventId: string): Promise<DeliveryRecord> {
    const delivery = this.deliveries.find((candidate) => candidate.event.id === eventId);
    if (!delivery) throw new Error(`no event ${eventId}`);
    if (!this.endpoint) throw new Error("the Stripe sandbox has no webhook endpoint to send events to");
    const attempt = this.deliver(this.endpoint, delivery);
    this.track(attempt);
    await attempt;
    return delivery;
  }

  /** Resolves when every delivery in flight has an answer. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }

  private track(promise: Promise<void>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private async deliver(endpoint: WebhookEndpoint, delivery: DeliveryRecord): Promise<void> {
    const body = JSON.stringify(delivery.event, null, 2);
    const at = unixSeconds(this.clock);
    try {
      const { status } = await endpoint.sender({
        url: endpoint.url,
        body,
        headers: {
          "content-type": "application/json; charset=utf-8",
          "stripe-signature": stripeSignatureHeader(endpoint.secret, body, at),
          "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) (expertline sandbox)",
        },
      });
      delivery.attempts.push({ at, status });
    } catch (error) {
      // fetch says "fetch failed" and keeps the reason (ECONNREFUSED ...) in its cause.
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
      delivery.attempts.push({ at, status: null, error: cause?.message ?? (error instanceof Error ? error.message : String(error)) });
    }
    const status = delivery.attempts.at(-1)?.status;
    if (typeof status === "number" && status >= 200 && status < 300) delivery.event.pending_webhooks = 0;
    this.onChange();
  }
}
