/**
 * Stripe's form encoding: `application/x-www-form-urlencoded` with bracket
 * notation for nesting, as stripe-node writes it (`metadata[k]=v`,
 * `capabilities[transfers][requested]=true`, arrays as `expand[0]=a` or
 * `expand[]=a`). Values stay strings: the API coerces per parameter, so each
 * endpoint says which are integers or booleans.
 */
export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormObject = { [key: string]: FormValue };

export class FormSyntaxError extends Error {}

/** `a[b][c]` -> ["a", "b", "c"]; `a[]` -> ["a", ""]. */
function splitKey(key: string): string[] {
  const open = key.indexOf("[");
  if (open <= 0) return [key];
  const parts = [key.slice(0, open)];
  const pattern = /\[([^\]]*)\]/gy;
  pattern.lastIndex = open;
  let match: RegExpExecArray | null;
  let end = open;
  while ((match = pattern.exec(key)) !== null) {
    parts.push(match[1] ?? "");
    end = pattern.lastIndex;
  }
  if (end !== key.length) throw new FormSyntaxError(`Invalid parameter name: ${key}`);
  return parts;
}

export function parseStripeForm(body: string): FormObject {
  const root: FormObject = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = splitKey(key);
    let node: FormObject | FormValue[] = root;
    for (let i = 0; i < path.length; i++) {
      const part = path[i] ?? "";
      const last = i === path.length - 1;
      const nextIsIndex = !last && /^\d*$/.test(path[i + 1] ?? "");
      if (Array.isArray(node)) {
        const index: number = part === "" ? node.length : Number(part);
        if (!/^\d*$/.test(part) || index > node.length) throw new FormSyntaxError(`Invalid array index in ${key}`);
        if (last) {
          node[index] = value;
        } else {
          const existing: FormValue | undefined = node[index];
          const child: FormObject | FormValue[] = existing !== undefined && typeof existing === "object" ? existing : nextIsIndex ? [] : {};
          node[index] = child;
          node = child;
        }
      } else {
        if (last) {
          node[part] = value;
        } else {
          const existing: FormValue | undefined = node[part];
          if (typeof existing === "string") throw new FormSyntaxError(`Invalid parameter name: ${key}`);
          const child: FormObject | FormValue[] = existing ?? (nextIsIndex ? [] : {});
          node[part] = child;
          node = child;
        }
      }
    }
  }
  return root;
}

/** A stable rendering for comparing two requests' parameters (idempotency). */
export function canonicalParams(value: FormValue): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalParams).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalParams(value[key] as FormValue)}`).join(",")}}`;
}
