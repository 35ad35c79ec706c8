import { describe, expect, it } from "vitest";
import { INITIAL_CONVERSATION, conversationReducer } from "@/lib/conversation-state";
import { edited, message } from "./fixtures";

describe("the conversation's state", () => {
  it("shows the first page and learns from its length whether older history exists", () => {
    const full = conversationReducer(INITIAL_CONVERSATION, {
      type: "newest_loaded",
      page: [message(2), message(1)],
      pageSize: 2,
    });
    expect(full).toMatchObject({ phase: "ready", hasMore: true });
    expect(full.timeline.messages).toHaveLength(2);
    const short = conversationReducer(INITIAL_CONVERSATION, { type: "newest_loaded", page: [], pageSize: 2 });
    expect(short).toMatchObject({ phase: "ready", hasMore: false });
  });

  it("keeps a shown conversation on screen when a refresh fails", () => {
    const ready = conversationReducer(INITIAL_CONVERSATION, { type: "newest_loaded", page: [message(1)], pageSize: 30 });
    expect(conversationReducer(ready, { type: "newest_requested" })).toBe(ready);
    expect(conversationReducer(ready, { type: "newest_failed", error: "down" })).toBe(ready);
    const failed = conversationReducer(INITIAL_CONVERSATION, { type: "newest_failed", error: "down" });
    expect(failed).toMatchObject({ phase: "error", loadError: "down" });
    expect(conversationReducer(failed, { type: "newest_requested" })).toMatchObject({ phase: "loading", loadError: null });
  });

  it("a refresh does not forget that paging reached the beginning", () => {
    let state = conversationReducer(INITIAL_CONVERSATION, { type: "newest_loaded", page: [message(9)], pageSize: 1 });
    state = conversationReducer(state, { type: "older_requested" });
    expect(state.loadingOlder).toBe(true);
    state = conversationReducer(state, { type: "older_loaded", page: [], pageSize: 1 });
    expect(state).toMatchObject({ hasMore: false, loadingOlder: false });
    state = conversationReducer(state, { type: "newest_loaded", page: [message(10)], pageSize: 1 });
    expect(state.hasMore).toBe(false);
  });

  it("reports a failed older page and clears it on the next attempt", () => {
    let state = conversationReducer(INITIAL_CONVERSATION, { type: "older_failed", error: "offline" });
    expect(state).toMatchObject({ loadingOlder: false, olderError: "offline" });
    state = conversationReducer(state, { type: "older_requested" });
    expect(state.olderError).toBeNull();
  });

  it("applies live states and leaves the state alone when nothing changes", () => {
    const original = message(1);
    const ready = conversationReducer(INITIAL_CONVERSATION, { type: "newest_loaded", page: [original], pageSize: 30 });
    expect(conversationReducer(ready, { type: "messages_arrived", messages: [original] })).toBe(ready);
    const changed = conversationReducer(ready, { type: "messages_arrived", messages: [edited(original, "new", 3)] });
    expect(changed.timeline.messages[0]!.body).toBe("new");
  });

  it("adds a pending bubble and marks it failed", () => {
    const pending = {
      clientMessageId: "c-1",
      chatId: "chat-1",
      fromUser: "1",
      toUser: "2",
      body: "hi",
      status: "sending" as const,
      error: null,
    };
    let state = conversationReducer(INITIAL_CONVERSATION, { type: "pending_added", message: pending });
    state = conversationReducer(state, { type: "pending_marked", clientMessageId: "c-1", status: "failed", error: "x" });
    expect(state.timeline.pending).toEqual([{ ...pending, status: "failed", error: "x" }]);
  });
});

describe("the first load", () => {
  it("changes nothing when it starts, so opening a chat renders once", () => {
    expect(conversationReducer(INITIAL_CONVERSATION, { type: "newest_requested" })).toBe(INITIAL_CONVERSATION);
  });
});
