import { describe, expect, it } from "vitest";
import { compareTimeUuid, parseTimeUuid } from "@/lib/timeuuid";
import { timeUuid } from "./fixtures";

describe("TimeUUID ordering", () => {
  it("decodes the 60-bit timestamp", () => {
    const parts = parseTimeUuid(timeUuid(0x0abcdef012345678n, 0x155, "aabbccddeeff"));
    expect(parts).toEqual({ timestamp: 0x0abcdef012345678n, clockSeq: 0x155, node: "aabbccddeeff" });
  });

  it("orders by timestamp where string order is wrong", () => {
    // time_low wraps around: the later UUID starts with "0000…", so it sorts first as text.
    const earlier = timeUuid(0x1_ffff_ffffn);
    const later = timeUuid(0x2_0000_0000n);
    expect(later < earlier).toBe(true);
    expect(compareTimeUuid(earlier, later)).toBeLessThan(0);
    expect(compareTimeUuid(later, earlier)).toBeGreaterThan(0);
    expect([later, earlier].sort(compareTimeUuid)).toEqual([earlier, later]);
  });

  it("breaks timestamp ties by clock sequence, then node", () => {
    const a = timeUuid(1000n, 1, "000000000002");
    const b = timeUuid(1000n, 2, "000000000001");
    const c = timeUuid(1000n, 2, "000000000003");
    expect([c, b, a].sort(compareTimeUuid)).toEqual([a, b, c]);
    expect(compareTimeUuid(a, a)).toBe(0);
  });

  it("is case-insensitive", () => {
    const value = timeUuid(5n, 7, "abcdefabcdef");
    expect(compareTimeUuid(value, value.toUpperCase())).toBe(0);
  });

  it("puts anything that is not a TimeUUID after real ones", () => {
    expect(parseTimeUuid("not-a-uuid")).toBeNull();
    expect(compareTimeUuid(timeUuid(1n), "zzz")).toBeLessThan(0);
  });
});
