import type { Message } from "@/lib/api-types";

/** A version-1 TimeUUID for a 60-bit timestamp (100 ns units), clock sequence and node. */
export function timeUuid(timestamp: bigint, clockSeq = 0x1234, node = "0242ac120002"): string {
  const low = (timestamp & 0xffffffffn).toString(16).padStart(8, "0");
  const mid = ((timestamp >> 32n) & 0xffffn).toString(16).padStart(4, "0");
  const high = (((timestamp >> 48n) & 0x0fffn) | 0x1000n).toString(16).padStart(4, "0");
  const clock = ((clockSeq & 0x3fff) | 0x8000).toString(16).padStart(4, "0");
  return `${low}-${mid}-${high}-${clock}-${node}`;
}

const GREGORIAN_OFFSET_MS = 12_219_292_800_000n;

/** A TimeUUID for a moment: milliseconds since the epoch plus extra 100 ns ticks. */
export function timeUuidAt(ms: number, ticks = 0): string {
  return timeUuid((BigInt(ms) + GREGORIAN_OFFSET_MS) * 10_000n + BigInt(ticks));
}

let counter = 0;

/** A message at `second` seconds after a fixed start, from user "1" to "2" by default. */
export function message(second: number, overrides: Partial<Message> = {}): Message {
  counter += 1;
  const ms = Date.UTC(2026, 11, 1, 6, 0, 0) + second * 1000;
  return {
    message_id: overrides.message_id ?? `m-${second}-${counter}`,
    chat_id: "chat-1",
    from_user: "1",
    to_user: "2",
    body: `message at ${second}`,
    time: timeUuidAt(ms),
    time_iso: new Date(ms).toISOString().replace("Z", "000+00:00"),
    client_message_id: null,
    edited_at: null,
    deleted: false,
    revision: null,
    ...overrides,
  };
}

/** A later state of `original`: edited `afterSeconds` after it was sent, with that revision. */
export function edited(original: Message, body: string, afterSeconds: number): Message {
  const ms = Date.parse(original.time_iso) + afterSeconds * 1000;
  return {
    ...original,
    body,
    edited_at: new Date(ms).toISOString().replace("Z", "000+00:00"),
    revision: timeUuidAt(ms),
  };
}

/** The tombstone of `original`, deleted `afterSeconds` after it was sent. */
export function deleted(original: Message, afterSeconds: number): Message {
  return { ...edited(original, "", afterSeconds), edited_at: original.edited_at, deleted: true };
}
