import { describe, expect, it } from "vitest";
import { formatMoney } from "./money.js";

describe("formatMoney", () => {
  it("reads minor units by the currency's own decimals", () => {
    expect(formatMoney(1500, "USD")).toBe("$15.00");
    expect(formatMoney(0, "USD")).toBe("$0.00");
    expect(formatMoney(1500, "JPY")).toBe("¥1,500"); // no minor unit
    expect(formatMoney(1234, "EUR", "de-DE")).toBe("12,34\u00a0€"); // Intl puts a no-break space before the sign
    expect(formatMoney(1234, "KWD")).toBe("KWD\u00a01.234"); // three decimals: 1,000 fils to the dinar
    expect(formatMoney(5, "USD")).toBe("$0.05");
    expect(formatMoney(-250, "USD")).toBe("-$2.50");
  });
});
