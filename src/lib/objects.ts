/**
 * Drops keys whose value is undefined. zod's `.partial()` yields `{ a?: T | undefined }`,
 * which Prisma (under exactOptionalPropertyTypes) rightly refuses: "absent" and
 * "set to undefined" are different things to it.
 */
export function definedOnly<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, item]) => item !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}
