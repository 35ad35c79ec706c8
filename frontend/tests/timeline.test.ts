import { describe, expect, it } from "vitest";
import type { Message } from "@/lib/api-types";
import {
  EMPTY_TIMELINE,
  type PendingMessage,
  addPending,
  lastSeenMessageId,
  markPending,
  mergeMessages,
  newestMessage,
  newestMessageFrom,
  oldestMessage,
  peerReadUpTo,
  timelineEntries,
  winsOver,
} from "@/lib/timeline";
import { deleted, edited, message, timeUuid } from "./fixtures";

const ids = (timeline: { messages: readonly Message[] }) => timeline.messages.map((m) => m.message_id);

function pending(clientMessageId: string, body = "hi"): PendingMessage {
  return { clientMessageId, chatId: "chat-1", fromUser: "1", toUser: "2", body, status: "sending", error: null };
}

describe("timeline merge", () => {
  it("orders a history page given newest first", () => {
    const [a, b, c] = [message(1), message(2), message(3)] as [Message, Message, Message];
    const timeline = mergeMessages(EMPTY_TIMELINE, [c, b, a]);
    expect(ids(timeline)).toEqual([a.message_id, b.message_id, c.message_id]);
    expect(oldestMessage(timeline)).toBe(a);
    expect(newestMessage(timeline)).toBe(c);
  });

  it("places bursts that arrive out of order by time", () => {
    const early = [message(10), message(11)];
    const late = [message(20), message(21)];
    const timeline = mergeMessages(mergeMessages(EMPTY_TIMELINE, late), early);
    expect(ids(timeline)).toEqual([...early, ...late].map((m) => m.message_id));
  });

  it("shows a message repeated by a burst (retried send) once", () => {
    const first = message(5, { client_message_id: "c-1" });
    const burst = [first, { ...first }, message(6)];
    const timeline = mergeMessages(mergeMessages(EMPTY_TIMELINE, [first]), burst);
    expect(ids(timeline)).toEqual([first.message_id, burst[2]!.message_id]);
  });

  it("merges a burst that overlaps the history page without duplicates", () => {
    const history = [message(1), message(2), message(3)];
    const burst = [history[1]!, history[2]!, message(4)];
    const timeline = mergeMessages(mergeMessages(EMPTY_TIMELINE, [...history].reverse()), burst);
    expect(ids(timeline)).toEqual([...history, burst[2]!].map((m) => m.message_id));
  });

  it("appends an older page at the boundary with no duplicate or gap", () => {
    const all = Array.from({ length: 8 }, (_, i) => message(100 + i));
    const newestPage = all.slice(4).reverse(); // the service answers newest first
    let timeline = mergeMessages(EMPTY_TIMELINE, newestPage);
    const cursor = oldestMessage(timeline)!.time;
    expect(cursor).toBe(all[4]!.time);
    const olderPage = all.slice(0, 4).reverse(); // strictly older than the cursor
    timeline = mergeMessages(timeline, olderPage);
    expect(ids(timeline)).toEqual(all.map((m) => m.message_id));
  });

  it("orders by TimeUUID, not by string, across a time_low wrap", () => {
    const before = message(1, { message_id: "before", time: timeUuid(0x1_ffff_ffffn) });
    const after = message(2, { message_id: "after", time: timeUuid(0x2_0000_0000n) });
    expect(after.time < before.time).toBe(true);
    const timeline = mergeMessages(EMPTY_TIMELINE, [after, before]);
    expect(ids(timeline)).toEqual(["before", "after"]);
  });

  it("returns the same timeline when nothing is new", () => {
    const a = message(1);
    const timeline = mergeMessages(EMPTY_TIMELINE, [a]);
    expect(mergeMessages(timeline, [a])).toBe(timeline);
    expect(mergeMessages(timeline, [])).toBe(timeline);
  });
});

describe("optimistic messages", () => {
  it("shows pending bubbles after every server message, in creation order", () => {
    let timeline = mergeMessages(EMPTY_TIMELINE, [message(1)]);
    timeline = addPending(timeline, pending("c-1", "first"));
    timeline = addPending(timeline, pending("c-2", "second"));
    timeline = mergeMessages(timeline, [message(50)]); // a newer message from elsewhere
    const entries = timelineEntries(timeline);
    expect(entries.map((e) => e.status)).toEqual(["sent", "sent", "sending", "sending"]);
    expect(entries.slice(2).map((e) => e.body)).toEqual(["first", "second"]);
    expect(entries[2]!.messageId).toBeNull();
  });

  it("replaces a pending bubble by its server message", () => {
    let timeline = addPending(EMPTY_TIMELINE, pending("c-1", "hello"));
    const key = timelineEntries(timeline)[0]!.key;
    const confirmed = message(9, { client_message_id: "c-1", body: "hello", from_user: "1" });
    timeline = mergeMessages(timeline, [confirmed]);
    const entries = timelineEntries(timeline);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ messageId: confirmed.message_id, clientMessageId: "c-1", status: "sent" });
    expect(entries[0]!.key).toBe(key); // the same element stays on screen
  });

  it("keeps a failed bubble's text and can retry it with the same id", () => {
    let timeline = addPending(EMPTY_TIMELINE, pending("c-1", "keep me"));
    timeline = markPending(timeline, "c-1", "failed", "Too many messages, try again in 3 seconds.");
    expect(timelineEntries(timeline)[0]).toMatchObject({ status: "failed", body: "keep me", clientMessageId: "c-1" });
    timeline = markPending(timeline, "c-1", "sending");
    expect(timelineEntries(timeline)[0]).toMatchObject({ status: "sending", error: null });
  });

  it("ignores a second pending bubble with a known client id", () => {
    let timeline = mergeMessages(EMPTY_TIMELINE, [message(1, { client_message_id: "c-1" })]);
    timeline = addPending(timeline, pending("c-1"));
    expect(timeline.pending).toHaveLength(0);
  });
});

describe("messages that change", () => {
  const sent = () => message(1, { body: "helo", client_message_id: "c-1" });

  it("replaces a message by a later edit, in place, keeping its element key", () => {
    const original = sent();
    let timeline = mergeMessages(EMPTY_TIMELINE, [original, message(2)]);
    const key = timelineEntries(timeline)[0]!.key;
    const fixed = { ...edited(original, "hello", 30), client_message_id: null };
    timeline = mergeMessages(timeline, [fixed]);
    expect(timeline.messages.map((m) => m.body)).toEqual(["hello", "message at 2"]);
    expect(timelineEntries(timeline)[0]).toMatchObject({ key, body: "hello", editedAt: fixed.edited_at });
  });

  it("ignores an older edit arriving after a newer one", () => {
    const original = sent();
    const first = edited(original, "first fix", 10);
    const second = edited(original, "second fix", 20);
    const timeline = mergeMessages(mergeMessages(EMPTY_TIMELINE, [original, second]), [first]);
    expect(timeline.messages[0]!.body).toBe("second fix");
    expect(winsOver(first, second)).toBe(false);
    expect(winsOver(second, first)).toBe(true);
  });

  it("ignores the original state coming again after an edit (a burst seen before the change)", () => {
    const original = sent();
    const fixed = edited(original, "hello", 5);
    const timeline = mergeMessages(EMPTY_TIMELINE, [fixed]);
    expect(mergeMessages(timeline, [original])).toBe(timeline);
  });

  it("lets a deletion win over every edit, whatever their order", () => {
    const original = sent();
    const gone = deleted(original, 10);
    const late = edited(original, "edited after the deletion", 60);
    expect(winsOver(gone, late)).toBe(true);
    expect(winsOver(late, gone)).toBe(false);
    const timeline = mergeMessages(mergeMessages(EMPTY_TIMELINE, [original]), [gone, late]);
    expect(timeline.messages[0]).toMatchObject({ deleted: true, body: "" });
    expect(timelineEntries(timeline)[0]).toMatchObject({ deleted: true, body: "" });
  });

  it("shows a tombstone without its body even if a malformed state carried one", () => {
    const timeline = mergeMessages(EMPTY_TIMELINE, [{ ...deleted(sent(), 1), body: "secret" }]);
    expect(timelineEntries(timeline)[0]!.body).toBe("");
  });

  it("merges a modified burst: new messages added and changed ones replaced in one go", () => {
    const [a, b] = [message(1), message(2)];
    let timeline = mergeMessages(EMPTY_TIMELINE, [a, b]);
    const c = message(3);
    timeline = mergeMessages(timeline, [a, edited(b, "b, edited", 4), c]);
    expect(timeline.messages.map((m) => m.body)).toEqual(["message at 1", "b, edited", "message at 3"]);
  });
});

describe("read marks", () => {
  it("finds the last of my messages at or before the peer's mark", () => {
    const mine1 = message(1, { from_user: "1" });
    const theirs = message(2, { from_user: "2" });
    const mine2 = message(3, { from_user: "1" });
    const mine3 = message(4, { from_user: "1" });
    const timeline = mergeMessages(EMPTY_TIMELINE, [mine1, theirs, mine2, mine3]);
    expect(lastSeenMessageId(timeline, "1", null)).toBeNull();
    expect(lastSeenMessageId(timeline, "1", theirs.time)).toBe(mine1.message_id);
    expect(lastSeenMessageId(timeline, "1", mine2.time)).toBe(mine2.message_id);
    expect(lastSeenMessageId(timeline, "1", mine3.time)).toBe(mine3.message_id);
    expect(lastSeenMessageId(timeline, "2", mine3.time)).toBe(theirs.message_id);
    expect(newestMessageFrom(timeline, "2")).toBe(theirs);
    expect(newestMessageFrom(timeline, "3")).toBeUndefined();
  });

  it("counts the peer's reply as read up to it, when it is later than their mark", () => {
    const mine1 = message(1, { from_user: "1" });
    const theirs = message(2, { from_user: "2" });
    const mine2 = message(3, { from_user: "1" });
    const timeline = mergeMessages(EMPTY_TIMELINE, [mine1, theirs, mine2]);
    expect(peerReadUpTo(timeline, "2", null)).toBe(theirs.time);
    expect(peerReadUpTo(timeline, "2", mine1.time)).toBe(theirs.time);
    expect(peerReadUpTo(timeline, "2", mine2.time)).toBe(mine2.time);
    expect(peerReadUpTo(timeline, "3", null)).toBeNull();
    expect(peerReadUpTo(timeline, "3", mine1.time)).toBe(mine1.time);
    // Answered without a mark written: "Seen" under the message the reply came after.
    expect(lastSeenMessageId(timeline, "1", peerReadUpTo(timeline, "2", null))).toBe(mine1.message_id);
  });
});
