/**
 * The expert life cycle, as pure functions. Two independent axes:
 *
 *   status:   invited --(phone verified by SMS)--> active <--> suspended
 *             invited --(suspend)--> suspended --(reinstate)--> invited (if never verified)
 *             active --(phone changed)--> invited; invited and suspended stay as they are
 *   vetting:  pending --> approved | rejected   (an admin decides once)
 *
 * Only active + approved + not paused experts receive offers.
 */
import type { ExpertStatus, VettingStatus } from "../../generated/prisma/enums.js";
import { conflict, DomainError } from "../../lib/problems.js";

export type ExpertEvent = "phone_verified" | "phone_changed" | "suspend" | "reinstate";

export interface ExpertState {
  status: ExpertStatus;
  phoneVerified: boolean;
}

/** The status after `event`, or a 409 DomainError when the move is not allowed. */
export function nextExpertStatus(state: ExpertState, event: ExpertEvent): ExpertStatus {
  switch (event) {
    case "phone_verified":
      if (state.status === "invited") return "active";
      if (state.status === "active") return "active"; // a repeated YES changes nothing
      throw conflict("expert-suspended", "A suspended expert cannot rejoin by SMS; reinstate them first");
    case "phone_changed":
      // The new number is unverified. A suspension outlasts it: reinstating an
      // unverified expert makes them invited again.
      return state.status === "active" ? "invited" : state.status;
    case "suspend":
      if (state.status === "suspended") throw conflict("already-suspended", "The expert is already suspended");
      return "suspended";
    case "reinstate":
      if (state.status !== "suspended") throw conflict("not-suspended", "Only a suspended expert can be reinstated");
      return state.phoneVerified ? "active" : "invited";
  }
}

export type VettingDecision = "approved" | "rejected";

export function decideVetting(current: VettingStatus, decision: VettingDecision): VettingStatus {
  if (current !== "pending") {
    throw new DomainError(409, "vetting-decided", `The expert was already ${current}; vetting is decided once`);
  }
  return decision;
}

/** Ready for offers as far as the life cycle goes (schedule and load are routing's concern). */
export function canReceiveOffers(expert: { status: ExpertStatus; vettingStatus: VettingStatus; paused: boolean }): boolean {
  return expert.status === "active" && expert.vettingStatus === "approved" && !expert.paused;
}
