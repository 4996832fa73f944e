/**
 * Which methods each registered path answers, so a request with a wrong
 * method on a known path is told 405 with an `Allow` header instead of the
 * 404 Fastify gives when no route matches the method.
 *
 * Fastify's router finds routes by method first, and `hasRoute`/`findRoute`
 * take a route pattern rather than a concrete URL, so the patterns are
 * recorded as routes are added (onRoute) and matched here segment by segment.
 */

type Segment = { kind: "literal"; value: string } | { kind: "param" } | { kind: "rest" };

interface PathPattern {
  segments: Segment[];
  methods: Set<string>;
}

function pathSegments(path: string): string[] {
  // ignoreTrailingSlash is on: "/v1/shop/" is "/v1/shop". Fastify strips one
  // slash only, so "/v1/shop//" is not "/v1/shop", and "//" is the root.
  const trimmed = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  return trimmed.split("/").slice(1);
}

function parsePattern(url: string): Segment[] {
  return pathSegments(url).map((segment): Segment => {
    if (segment === "*") return { kind: "rest" };
    if (segment.startsWith(":")) return { kind: "param" };
    return { kind: "literal", value: segment };
  });
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function matches(segments: Segment[], path: string[]): boolean {
  for (const [index, segment] of segments.entries()) {
    // As in Fastify, a wildcard needs a segment ("/docs/static/*" does not
    // answer "/docs/static"), though it may be empty, and so may a param.
    const part = path[index];
    if (part === undefined) return false;
    if (segment.kind === "rest") return true;
    if (segment.kind === "param") continue;
    if (decoded(part) !== segment.value) return false;
  }
  return segments.length === path.length;
}

export class RouteMethods {
  private readonly patterns = new Map<string, PathPattern>();

  add(url: string, method: string | string[]): void {
    let pattern = this.patterns.get(url);
    if (!pattern) {
      pattern = { segments: parsePattern(url), methods: new Set() };
      this.patterns.set(url, pattern);
    }
    for (const one of Array.isArray(method) ? method : [method]) {
      pattern.methods.add(one.toUpperCase());
      // Fastify answers HEAD wherever it answers GET (exposeHeadRoutes).
      if (one.toUpperCase() === "GET") pattern.methods.add("HEAD");
    }
  }

  /** Methods with a route for this path (no query string), sorted; empty for an unknown path. */
  allowedFor(path: string): string[] {
    const segments = pathSegments(path);
    const allowed = new Set<string>();
    for (const pattern of this.patterns.values()) {
      if (matches(pattern.segments, segments)) for (const method of pattern.methods) allowed.add(method);
    }
    return [...allowed].sort();
  }
}
