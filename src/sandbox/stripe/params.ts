/**
 * Reading one endpoint's parameters out of the parsed form, with Stripe's
 * validation errors. Failing here happens before "endpoint execution
 * begins", so the idempotency layer does not save it (fact sheet §3).
 */
import { invalidRequest, missingParam, unknownParam } from "./errors.js";
import type { FormObject, FormValue } from "./form.js";

export class Params {
  constructor(private readonly form: FormObject) {}

  /** Refuses parameters the endpoint does not know, as Stripe does. `expand` is accepted everywhere. */
  only(allowed: readonly string[]): this {
    for (const key of Object.keys(this.form)) {
      if (key !== "expand" && !allowed.includes(key)) throw unknownParam(key);
    }
    return this;
  }

  has(name: string): boolean {
    return this.form[name] !== undefined;
  }

  string(name: string): string | undefined {
    const value = this.form[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string") throw invalidRequest(`Invalid string: ${name}`, { param: name });
    return value;
  }

  requiredString(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === "") throw missingParam(name);
    return value;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!(values as readonly string[]).includes(value)) {
      // UNCONFIRMED wording
      throw invalidRequest(`Invalid ${name}: must be one of ${values.join(", ")}`, { code: "parameter_invalid_string", param: name });
    }
    return value as T;
  }

  /** A positive integer in minor units (`amount`): at least 1 (fact sheet §7). */
  positiveInteger(name: string): number | undefined {
    const value = this.string(name);
    if (value === undefined) return undefined;
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw invalidRequest(`Invalid integer: ${value}`, { code: "parameter_invalid_integer", param: name });
    }
    const number = Number(value);
    if (number < 1) {
      // UNCONFIRMED wording
      throw invalidRequest("This value must be greater than or equal to 1.", { code: "parameter_invalid_integer", param: name });
    }
    return number;
  }

  currency(name: string): string {
    const value = this.requiredString(name).toLowerCase();
    if (!/^[a-z]{3}$/.test(value)) throw invalidRequest(`Invalid currency: ${value}`, { param: name }); // UNCONFIRMED wording
    return value;
  }

  /** `metadata[k]=v`: strings only; an empty value unsets a key, so it is not kept. */
  metadata(name = "metadata"): Record<string, string> {
    const value = this.form[name];
    if (value === undefined || value === "") return {};
    if (typeof value !== "object" || Array.isArray(value)) throw invalidRequest(`Invalid object`, { param: name });
    const out: Record<string, string> = {};
    for (const [key, entry] of Object.entries(value)) {
      if (typeof entry !== "string") throw invalidRequest(`Invalid string: ${name}[${key}]`, { param: `${name}[${key}]` });
      if (entry !== "") out[key] = entry;
    }
    return out;
  }

  object(name: string): FormObject | undefined {
    const value: FormValue | undefined = this.form[name];
    if (value === undefined) return undefined;
    if (typeof value !== "object" || Array.isArray(value)) throw invalidRequest(`Invalid object`, { param: name });
    return value;
  }
}

/** `a[b][c]` of a nested form object, or undefined. */
export function pathOf(form: FormObject | undefined, ...path: string[]): FormValue | undefined {
  let node: FormValue | undefined = form;
  for (const key of path) {
    if (node === undefined || typeof node !== "object" || Array.isArray(node)) return undefined;
    node = node[key];
  }
  return node;
}
