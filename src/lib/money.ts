/** Money is integer minor units plus an ISO 4217 code; only formatting ever sees a decimal. */
export function formatMoney(amountMinor: number, currency: string, locale = "en-US"): string {
  const format = new Intl.NumberFormat(locale, { style: "currency", currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(amountMinor / 10 ** digits);
}
