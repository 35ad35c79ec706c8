import { describe, expect, it } from "vitest";
import type { Message } from "@/lib/api-types";
import {
  EMPTY_TIMELINE,
  type PendingMessage,
  addPending,
  markPending,
  mergeMessages,
  newestMessage,
  oldestMessage,
  timelineEntries,
} from "@/lib/timeline";
import { message, timeUuid } from "./fixtures";

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
