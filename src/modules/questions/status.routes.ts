/**
 * The public status page of a question: GET /q/:token.
 */
import type { Deps } from "../../deps.js";
import type { RoutesPlugin } from "../../http.js";

export const statusPageRoutes: RoutesPlugin<{ deps: Pick<Deps, "prisma" | "config" | "clock"> }> = async () => {};
