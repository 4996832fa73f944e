import { describe, expect, it } from "vitest";
import { sandboxRefusal } from "./production-guard.js";

describe("sandboxRefusal", () => {
  it("refuses production with one line that says why", () => {
    const line = sandboxRefusal("production");
    expect(line).toMatch(/^sandbox: refusing to start with NODE_ENV=production/);
    expect(line).not.toContain("\n");
  });

  it.each(["development", "test", undefined])("lets %s through", (nodeEnv) => {
    expect(sandboxRefusal(nodeEnv)).toBeNull();
  });
});
