import { describe, expect, it } from "vitest";
import { allocateProxyNumber, type OpenSession } from "./proxy-allocation.js";

const POOL = ["+15550000001", "+15550000002", "+15550000003"];
const DAN = "+14155550101";
const ANN = "+14155550102";
const BOB = "+14155550103";
const EVE = "+14155550104";

describe("allocateProxyNumber", () => {
  it("uses the first number when nothing is open", () => {
    expect(allocateProxyNumber(POOL, [], [DAN, ANN])).toBe(POOL[0]);
  });

  it("shares a number between sessions with different participants, preferring the least loaded", () => {
    const open: OpenSession[] = [{ proxyNumber: POOL[0]!, participants: [DAN, ANN] }];
    expect(allocateProxyNumber(POOL, open, [BOB, EVE])).toBe(POOL[1]);
    const busier: OpenSession[] = [
      { proxyNumber: POOL[1]!, participants: [DAN, ANN] },
      { proxyNumber: POOL[2]!, participants: [DAN, BOB] },
    ];
    expect(allocateProxyNumber(POOL, busier, [EVE, "+14155550105"])).toBe(POOL[0]);
  });

  it("keeps a number usable for new participants when it is busy with others", () => {
    const open: OpenSession[] = [{ proxyNumber: POOL[0]!, participants: [BOB, EVE] }];
    expect(allocateProxyNumber([POOL[0]!], open, [DAN, ANN])).toBe(POOL[0]);
  });

  it.each([
    ["the second number", [2, 1], 1],
    ["the first number", [1, 2], 0],
    ["the third number", [3, 2, 1], 2],
  ])("counts every open session on a number: picks %s with loads %j", (_which, loads, expectedIndex) => {
    let other = 0;
    const open: OpenSession[] = loads.flatMap((count, index) =>
      Array.from({ length: count }, () => ({ proxyNumber: POOL[index]!, participants: [`+1415555030${other++}`] })),
    );
    expect(allocateProxyNumber(POOL.slice(0, loads.length), open, [DAN, ANN])).toBe(POOL[expectedIndex]);
  });

  it("never gives a participant two open sessions on one number", () => {
    const open: OpenSession[] = [
      { proxyNumber: POOL[0]!, participants: [DAN, ANN] },
      { proxyNumber: POOL[1]!, participants: [BOB, DAN] },
    ];
    // Dan is on numbers 1 and 2 already
    expect(allocateProxyNumber(POOL, open, [DAN, EVE])).toBe(POOL[2]);
    // Ann is only on number 1; number 2 carries one session, 3 none
    expect(allocateProxyNumber(POOL, open, [ANN, EVE])).toBe(POOL[2]);
  });

  it("returns null when every number is taken for a participant", () => {
    const open: OpenSession[] = POOL.map((proxyNumber, index) => ({ proxyNumber, participants: [DAN, `+1415555020${index}`] }));
    expect(allocateProxyNumber(POOL, open, [DAN, EVE])).toBeNull();
    expect(allocateProxyNumber([], [], [DAN, EVE])).toBeNull();
  });

  it("ignores sessions on numbers outside the pool and never uses a participant's own number", () => {
    const open: OpenSession[] = [{ proxyNumber: "+15559999999", participants: [DAN, ANN] }];
    expect(allocateProxyNumber(POOL, open, [DAN, ANN])).toBe(POOL[0]);
    expect(allocateProxyNumber([DAN, POOL[1]!], [], [DAN, ANN])).toBe(POOL[1]);
  });
});
