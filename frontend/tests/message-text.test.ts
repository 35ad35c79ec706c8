import { describe, expect, it } from "vitest";
import { MAX_MESSAGE_LENGTH, codePointLength, draftProblem, messageLength } from "@/lib/message-text";

describe("message length", () => {
  it("counts code points, not UTF-16 units", () => {
    expect(codePointLength("hello")).toBe(5);
    expect("😀".length).toBe(2);
    expect(codePointLength("😀")).toBe(1);
    expect(codePointLength("a😀b")).toBe(3);
    expect(codePointLength("")).toBe(0);
  });

  it("counts what is left after trimming, as the service does", () => {
    expect(messageLength("  hi \n")).toBe(2);
    expect(messageLength("   ")).toBe(0);
  });

  it("accepts exactly the limit and refuses one more", () => {
    expect(draftProblem("a".repeat(MAX_MESSAGE_LENGTH))).toBeNull();
    expect(draftProblem("a".repeat(MAX_MESSAGE_LENGTH + 1))).toBe("too_long");
    expect(draftProblem("😀".repeat(MAX_MESSAGE_LENGTH))).toBeNull();
  });

  it("refuses empty drafts and control characters other than newline and tab", () => {
    expect(draftProblem(" \n ")).toBe("empty");
    expect(draftProblem("line one\n\tline two")).toBeNull();
    expect(draftProblem("bell\u0007")).toBe("control_characters");
  });
});
