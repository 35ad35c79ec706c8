import { describe, expect, it } from "vitest";
import type { Chat } from "@/lib/api-types";
import {
  mergeChatLists,
  otherMember,
  previewText,
  sortChats,
  unreadOf,
  unreadText,
  withLatest,
  withReadMark,
} from "@/lib/chats";
import { isNewerIso, isoToMicros, newestIso } from "@/lib/iso-time";
import { deleted, edited, message } from "./fixtures";

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

describe("unread counts and previews", () => {
  const withCount = (overrides: Partial<Chat>): Chat => ({ ...chat("c", null), ...overrides });

  it("shows the service's count, 99+ when capped", () => {
    expect(unreadText(unreadOf(withCount({ unread_count: 3 })))).toBe("3");
    expect(unreadText(unreadOf(withCount({ unread_count: 99, unread_count_capped: true })))).toBe("99+");
    expect(unreadOf(withCount({})).count).toBe(0);
  });

  it("clears at once when this tab read past the service's (coalesced) mark", () => {
    const [older, latest] = [message(1, { from_user: "2" }), message(2, { from_user: "2" })];
    const last = { ...latest, edited_at: null, deleted: false };
    const stale = withCount({ unread_count: 2, read_up_to: older.time, last_message: last });
    expect(unreadOf(withReadMark(stale, latest.time)).count).toBe(0);
    expect(unreadOf(withReadMark(stale, older.time)).count).toBe(2); // the service knows as much as we do
    const newer = message(3, { from_user: "2" });
    const moved = withCount({ unread_count: 1, read_up_to: null, last_message: { ...newer } });
    expect(unreadOf(withReadMark(moved, latest.time)).count).toBe(1); // a message after our mark
  });

  it("keeps this tab's mark over a fresh list whose (coalesced) mark is behind it", () => {
    const [older, latest] = [message(1, { from_user: "2" }), message(2, { from_user: "2" })];
    const last = { ...latest, edited_at: null, deleted: false };
    const fresh = withCount({ unread_count: 2, read_up_to: older.time, last_message: last });
    const [merged] = mergeChatLists([fresh], [withReadMark(fresh, latest.time)]);
    expect(merged?.read_up_to).toBe(latest.time);
    expect(unreadOf(merged!).count).toBe(0);
    expect(withReadMark(fresh, older.time)).toBe(fresh); // a mark never moves back
  });

  it("previews a deleted message without its body, and follows edits of the previewed one", () => {
    const original = message(1, { from_user: "2", body: "typo" });
    let listed = withLatest(chat("c", null), [original]);
    expect(previewText(listed, "1")).toBe("typo");
    listed = withLatest(listed, [edited(original, "fixed", 5)]);
    expect(previewText(listed, "1")).toBe("fixed");
    listed = withLatest(listed, [deleted(original, 9)]);
    expect(previewText(listed, "1")).toBe("Message deleted");
    listed = withLatest(listed, [edited(original, "back?", 20)]);
    expect(previewText(listed, "1")).toBe("Message deleted");
  });
});
