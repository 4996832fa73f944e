/**
 * The arithmetic of a bridged call. Pure: Twilio's timestamps in, seconds
 * out. Billable time runs from the moment both legs are in the conference
 * (the later of the two joins) to the first one leaving; a call that never
 * bridged costs nothing. Times come from Twilio's callbacks (RFC 2822, whole
 * seconds), never from our clock, so a slow webhook cannot make a call dearer.
 */

/** Seconds before the cap at which both sides hear the warning. */
export const CAP_WARNING_SECONDS = 60;

/** Twilio's `Timestamp` ("Tue, 01 Dec 2026 10:00:05 +0000"), or null when it is missing or not a date. */
export function parseTwilioTimestamp(value: string | undefined): Date | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : new Date(ms);
}

/** Both legs in: the later join; null while one is missing. */
export function bridgeStart(expertJoinedAt: Date | null, customerJoinedAt: Date | null): Date | null {
  if (!expertJoinedAt || !customerJoinedAt) return null;
  return expertJoinedAt > customerJoinedAt ? expertJoinedAt : customerJoinedAt;
}

/** Whole seconds from the bridge to the first leave; 0 without a bridge or for a leave stamped before it. */
export function billableSeconds(bridgedAt: Date | null, firstLeftAt: Date): number {
  if (!bridgedAt) return 0;
  return Math.max(0, Math.floor((firstLeftAt.getTime() - bridgedAt.getTime()) / 1000));
}

/** What is left of the session's cap once `usedSeconds` have been talked (earlier calls of the same session). */
export function remainingCapSeconds(capSeconds: number, usedSeconds: number): number {
  return Math.max(0, capSeconds - usedSeconds);
}

/**
 * When the warning plays and when the call ends, counted from the bridge.
 * No warning when less than a minute is left at the start: there is nothing
 * to warn about that the caller would not hear as the end itself.
 */
export function capSchedule(bridgedAt: Date, remainingSeconds: number): { warnAt: Date | null; endAt: Date } {
  const endAt = new Date(bridgedAt.getTime() + remainingSeconds * 1000);
  const warnAt = remainingSeconds > CAP_WARNING_SECONDS ? new Date(endAt.getTime() - CAP_WARNING_SECONDS * 1000) : null;
  return { warnAt, endAt };
}

/** What Twilio's conference callbacks told us about one bridge, in whatever order they came. */
export interface BridgeTimes {
  expertJoinedAt: Date | null;
  customerJoinedAt: Date | null;
  expertLeftAt: Date | null;
  customerLeftAt: Date | null;
  conferenceEndedAt: Date | null;
}

/**
 * Everything needed to settle has arrived: the conference ended (or both
 * left), and a leg reported leaving is also known to have joined (a leave
 * implies a join; its callback is merely late).
 */
export function bridgeComplete(times: BridgeTimes): boolean {
  const over = times.conferenceEndedAt !== null || (times.expertLeftAt !== null && times.customerLeftAt !== null);
  const joinsKnown = (times.expertLeftAt === null || times.expertJoinedAt !== null) && (times.customerLeftAt === null || times.customerJoinedAt !== null);
  return over && joinsKnown;
}

export interface BridgeSettlement {
  bridgedAt: Date | null;
  endedAt: Date;
  /** Who left first: expert, customer, or "conference" (ended by the API, or no leave known). */
  endedBy: "expert" | "customer" | "conference";
  billableSeconds: number;
}

/**
 * The bridge's outcome, from its callbacks' timestamps: bridged from the
 * later join to the first leave (or the conference's end); never bridged
 * when a side never joined or left before the other arrived.
 */
export function settleBridge(times: BridgeTimes, fallbackEnd: Date, endingParty: "expert" | "customer" | null = null): BridgeSettlement {
  const leaves: { by: BridgeSettlement["endedBy"]; at: Date }[] = [];
  if (times.expertLeftAt) leaves.push({ by: "expert", at: times.expertLeftAt });
  if (times.customerLeftAt) leaves.push({ by: "customer", at: times.customerLeftAt });
  if (times.conferenceEndedAt) leaves.push({ by: "conference", at: times.conferenceEndedAt });
  // The earliest wins. Timestamps have whole seconds, so ties are common: then the participant
  // Twilio named as ending the conference (CallSidEndingConference), then any person over the
  // conference's end that their leaving caused.
  const rank = (leave: (typeof leaves)[number]) => (leave.by === endingParty ? 0 : leave.by === "conference" ? 2 : 1);
  const first = leaves.reduce<(typeof leaves)[number] | null>(
    (best, leave) => (best === null || leave.at < best.at || (leave.at.getTime() === best.at.getTime() && rank(leave) < rank(best)) ? leave : best),
    null,
  );
  const endedAt = first?.at ?? fallbackEnd;
  const endedBy = first?.by ?? "conference";
  const joinedBoth = bridgeStart(times.expertJoinedAt, times.customerJoinedAt);
  const bridgedAt = joinedBoth && joinedBoth <= endedAt ? joinedBoth : null;
  return { bridgedAt, endedAt, endedBy, billableSeconds: billableSeconds(bridgedAt, endedAt) };
}
