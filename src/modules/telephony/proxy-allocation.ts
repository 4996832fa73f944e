/**
 * Choosing the masked number for a session, as Twilio Proxy does: one proxy
 * number carries many sessions at once, as long as no participant has two
 * open sessions on it (an inbound text is routed by the pair sender + proxy
 * number, so that pair must be unambiguous). Pure: the caller supplies the
 * open sessions.
 */
export interface OpenSession {
  proxyNumber: string;
  participants: readonly string[];
}

/**
 * The least-loaded proxy number on which none of `participants` is already
 * in an open session, or null when every number is taken for them.
 * Ties go to the earlier number in `pool`, so allocation is deterministic.
 */
export function allocateProxyNumber(
  pool: readonly string[],
  openSessions: readonly OpenSession[],
  participants: readonly string[],
): string | null {
  // Open sessions per number; a number with none has no entry. Sessions on numbers
  // outside the pool are counted too, harmlessly: only pool numbers are read below.
  const load = new Map<string, number>();
  const blocked = new Set<string>();
  for (const session of openSessions) {
    load.set(session.proxyNumber, (load.get(session.proxyNumber) ?? 0) + 1);
    if (session.participants.some((participant) => participants.includes(participant))) blocked.add(session.proxyNumber);
  }
  let best: string | null = null;
  for (const number of pool) {
    if (blocked.has(number) || participants.includes(number)) continue;
    if (best === null || (load.get(number) ?? 0) < (load.get(best) ?? 0)) best = number;
  }
  return best;
}
