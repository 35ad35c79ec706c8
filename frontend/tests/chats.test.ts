import { describe, expect, it } from "vitest";
import type { Chat } from "@/lib/api-types";
import { mergeChatLists, otherMember, sortChats, withLatest } from "@/lib/chats";
import { isNewerIso, isoToMicros, newestIso } from "@/lib/iso-time";
import { message } from "./fixtures";

function chat(id: string, activity: string | null): Chat {
  return {
    chat_id: id,
    users_id: ["1", "2"],
    users_name: ["alice", "bob"],
    created_at: "2026-01-01T00:00:00.000000+00:00",
    last_activity: activity,
    last_message: null,
  };
}

describe("ISO times with microseconds", () => {
  it("compares past the millisecond", () => {
    const a = "2026-12-01T06:35:22.123456+00:00";
    const b = "2026-12-01T06:35:22.123457+00:00";
    expect(isoToMicros(b) - isoToMicros(a)).toBe(1);
    expect(isNewerIso(b, a)).toBe(true);
    expect(isNewerIso(a, b)).toBe(false);
    expect(isNewerIso(a, null)).toBe(true);
    expect(newestIso(a, b)).toBe(b);
    expect(newestIso(null, a)).toBe(a);
  });
});

describe("chat list", () => {
  it("finds the other member whichever side I am on", () => {
    expect(otherMember(chat("c", null), "1")).toEqual({ id: "2", username: "bob" });
    expect(otherMember(chat("c", null), "2")).toEqual({ id: "1", username: "alice" });
  });

  it("sorts by newest activity, falling back to creation time", () => {
    const sorted = sortChats([
      chat("old", "2026-02-01T00:00:00.000000+00:00"),
      chat("never", null),
      chat("new", "2026-03-01T00:00:00.000000+00:00"),
    ]);
    expect(sorted.map((c) => c.chat_id)).toEqual(["new", "old", "never"]);
  });

  it("moves the preview forward only", () => {
    const newer = message(10, { body: "newer" });
    const older = message(5, { body: "older" });
    const updated = withLatest(chat("c", null), [older, newer]);
    expect(updated.last_message?.body).toBe("newer");
    expect(withLatest(updated, [older])).toBe(updated);
  });

  it("keeps a live preview newer than a fresh server list", () => {
    const live = withLatest(chat("c", null), [message(10, { body: "live" })]);
    const [merged] = mergeChatLists([chat("c", null)], [live]);
    expect(merged?.last_message?.body).toBe("live");
  });
});
