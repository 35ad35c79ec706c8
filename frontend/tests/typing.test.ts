import { Timestamp } from "firebase/firestore";
import { describe, expect, it } from "vitest";
import { TYPING_FOR_MS, TYPING_WRITE_EVERY_MS, typingShownFor, typingUntil, typingWriteDue } from "@/lib/typing";

describe("typing", () => {
  it("writes the first keystroke, then at most once per interval", () => {
    expect(typingWriteDue(null, 1_000)).toBe(true);
    expect(typingWriteDue(1_000, 1_000 + TYPING_WRITE_EVERY_MS - 1)).toBe(false);
    expect(typingWriteDue(1_000, 1_000 + TYPING_WRITE_EVERY_MS)).toBe(true);
  });

  it("says typing for longer than the write interval, so it does not flicker while typing", () => {
    expect(TYPING_FOR_MS).toBeGreaterThan(TYPING_WRITE_EVERY_MS);
  });

  it("shows typing while the peer's until is ahead, for the time left", () => {
    expect(typingShownFor(null, 5_000)).toBe(0);
    expect(typingShownFor(4_000, 5_000)).toBe(0);
    expect(typingShownFor(5_000, 5_000)).toBe(0);
    expect(typingShownFor(11_000, 5_000)).toBe(6_000);
  });

  it("reads until from the peer's document, ignoring a missing or malformed one", () => {
    expect(typingUntil(null)).toBeNull();
    expect(typingUntil({ until: "soon" })).toBeNull();
    expect(typingUntil({ members: ["1", "2"], until: Timestamp.fromMillis(1_234) })).toBe(1_234);
  });
});
