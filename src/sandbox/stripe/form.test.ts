import { describe, expect, it } from "vitest";
import { canonicalParams, FormSyntaxError, parseStripeForm } from "./form.js";

describe("Stripe form encoding", () => {
  it("nests bracket notation as stripe-node writes it", () => {
    const form = parseStripeForm(
      "capabilities[transfers][requested]=true&metadata[payout]=po_1&metadata[note]=a%20b&expand[0]=x&expand[1]=y&amount=500",
    );
    expect(form).toEqual({
      capabilities: { transfers: { requested: "true" } },
      metadata: { payout: "po_1", note: "a b" },
      expand: ["x", "y"],
      amount: "500",
    });
  });

  it("accepts encoded brackets and empty-index arrays", () => {
    expect(parseStripeForm("metadata%5Bk%5D=v&expand[]=a&expand[]=b")).toEqual({ metadata: { k: "v" }, expand: ["a", "b"] });
  });

  it("nests objects inside arrays", () => {
    expect(parseStripeForm("items[0][price]=p1&items[0][quantity]=2&items[1][price]=p2")).toEqual({
      items: [{ price: "p1", quantity: "2" }, { price: "p2" }],
    });
  });

  it("refuses a name that is both a value and an object, or a broken bracket", () => {
    expect(() => parseStripeForm("a=1&a[b]=2")).toThrow(FormSyntaxError);
    expect(() => parseStripeForm("a[b=1")).toThrow(FormSyntaxError);
    expect(() => parseStripeForm("a[5]=1")).toThrow(FormSyntaxError);
  });

  it("renders parameters canonically whatever their order", () => {
    const one = parseStripeForm("amount=1&metadata[a]=1&metadata[b]=2");
    const two = parseStripeForm("metadata[b]=2&metadata[a]=1&amount=1");
    expect(canonicalParams(one)).toBe(canonicalParams(two));
    expect(canonicalParams(one)).not.toBe(canonicalParams(parseStripeForm("amount=2&metadata[a]=1&metadata[b]=2")));
  });
});
