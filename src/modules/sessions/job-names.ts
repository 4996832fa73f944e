/**
 * The sessions queue's job names, in a module that imports nothing: routing
 * enqueues some of them (a session's start, with acceptance) and sessions'
 * voice flow calls routing back, so the names cannot live beside the handlers.
 */

/** Enqueued (through the outbox) by the acceptance that creates the Session row, job id `start-session-<sessionId>`. */
export const START_SESSION = "start-session";
/** Rings one side into a bridge: `{ bridgeId, party }`, job id `ring-<bridgeId>-<party>`. */
export const RING_PARTY = "ring-party";
/** A bridge's conference is over (a leave or its end arrived): settle it, `{ bridgeId }`. */
export const BRIDGE_SETTLE = "bridge-settle";
/** One side waited alone too long: the other counts as not answering, `{ bridgeId, party }`. */
export const BRIDGE_ALONE = "bridge-alone";
/** The call-time cap: `{ bridgeId, stage: "warn" | "end" }`. */
export const CALL_CAP = "call-cap";
