import { Timestamp } from "firebase/firestore";
import { describe, expect, it } from "vitest";
import {
  TYPING_FOR_MS,
  TYPING_WRITE_EVERY_MS,
  type TypingDoc,
  TypingWrites,
  typingShownFor,
  typingUntil,
  typingWriteDue,
} from "@/lib/typing";

const DOC = { chatId: "chat", uid: "me", members: ["me", "peer"] } as unknown as TypingDoc;

/** A TypingWrites whose writes are recorded; `answer` decides what each write does. */
function recorded(answer: () => Promise<void> = () => Promise.resolve()) {
  const untils: number[] = [];
  const writes = new TypingWrites((_doc, until) => {
    const written = answer();
    untils.push(until);
    return written;
  });
  return { writes, untils };
}

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

  it("writes on the first keystroke, not on the next ones within the interval, and ends on send", () => {
    const { writes, untils } = recorded();
    writes.writeTo(DOC);
    writes.typed(1_000);
    writes.typed(2_000);
    writes.typed(1_000 + TYPING_WRITE_EVERY_MS);
    writes.sent(1_000 + TYPING_WRITE_EVERY_MS + 10);
    writes.sent(1_000 + TYPING_WRITE_EVERY_MS + 20); // nothing shown any more: no write
    expect(untils).toEqual([
      1_000 + TYPING_FOR_MS,
      1_000 + TYPING_WRITE_EVERY_MS + TYPING_FOR_MS,
      1_000 + TYPING_WRITE_EVERY_MS + 10,
    ]);
  });

  it("lets the next keystroke write when the last one had nowhere to write (Firebase not loaded)", () => {
    const { writes, untils } = recorded();
    writes.typed(1_000);
    writes.writeTo(DOC);
    writes.typed(1_100);
    writes.writeTo(null); // the conversation closed
    writes.typed(1_000 + TYPING_WRITE_EVERY_MS + 200);
    expect(untils).toEqual([1_100 + TYPING_FOR_MS]);
  });

  it("lets the next keystroke write again when a write failed or threw", async () => {
    let answer: () => Promise<void> = () => Promise.reject(new Error("offline"));
    const { writes, untils } = recorded(() => answer());
    writes.writeTo(DOC);
    writes.typed(1_000);
    await Promise.resolve(); // the failure is seen
    answer = () => {
      throw new Error("the client is shutting down");
    };
    writes.typed(1_100);
    answer = () => Promise.resolve();
    writes.typed(1_200);
    writes.typed(1_300); // within the interval of the write that went out
    expect(untils).toEqual([1_000 + TYPING_FOR_MS, 1_200 + TYPING_FOR_MS]);
  });
});
