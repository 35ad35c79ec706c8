import { describe, expect, it } from "vitest";
import { messagesOfBurst, readMarkOf } from "@/lib/live";

const base = {
  message_id: "m-1",
  chat_id: "chat-1",
  from_user: "1",
  to_user: "2",
  body: "hello",
  time: "a0000000-0000-1000-8000-000000000001",
  time_iso: "2026-12-01T06:00:00.000000+00:00",
};

describe("burst documents", () => {
  it("reads each message's state: edited, deleted and its revision", () => {
    const [plain, changed, gone] = messagesOfBurst({
      list_of_messages: [
        base,
        { ...base, message_id: "m-2", edited_at: "2026-12-01T06:01:00.000000+00:00", revision: "r-2" },
        { ...base, message_id: "m-3", body: null, deleted: true, revision: "r-3" },
      ],
    });
    expect(plain).toMatchObject({ body: "hello", edited_at: null, deleted: false, revision: null });
    expect(changed).toMatchObject({ edited_at: "2026-12-01T06:01:00.000000+00:00", revision: "r-2" });
    expect(gone).toMatchObject({ message_id: "m-3", body: "", deleted: true, revision: "r-3" });
  });

  it("skips malformed entries", () => {
    expect(messagesOfBurst({ list_of_messages: [{ ...base, body: null }, "x", null] })).toEqual([]);
    expect(messagesOfBurst({})).toEqual([]);
  });

  it("reads a read mark, null for a missing document", () => {
    expect(readMarkOf(null)).toBeNull();
    expect(readMarkOf({ members: ["1", "2"], up_to: "t-1", up_to_iso: "x" })).toBe("t-1");
  });
});
