/**
 * The conversation's timeline: history pages, live bursts and optimistic bubbles merged into
 * one ordered list, without duplicates, each message in its latest state (edits, deletions).
 * Pure functions over immutable values.
 */

import type { Message } from "./api-types";
import { compareTimeUuid } from "./timeuuid";

export type MessageStatus = "sending" | "sent" | "failed";

/** A message typed here that the server has not confirmed (yet). */
export interface PendingMessage {
  clientMessageId: string;
  chatId: string;
  fromUser: string;
  toUser: string;
  body: string;
  status: "sending" | "failed";
  error: string | null;
}

export interface Timeline {
  /** Server messages, oldest first, unique by message_id. */
  messages: readonly Message[];
  /** Optimistic messages in the order they were written. */
  pending: readonly PendingMessage[];
}

export interface TimelineEntry {
  key: string;
  messageId: string | null;
  clientMessageId: string | null;
  time: string | null;
  timeIso: string | null;
  fromUser: string;
  body: string;
  editedAt: string | null;
  deleted: boolean;
  status: MessageStatus;
  error: string | null;
}

export const EMPTY_TIMELINE: Timeline = { messages: [], pending: [] };

export function compareMessages(a: Message, b: Message): number {
  return compareTimeUuid(a.time, b.time) || (a.message_id < b.message_id ? -1 : a.message_id > b.message_id ? 1 : 0);
}

/**
 * The order of one message's states (the twin of the services' `ChatMessage.change_order`):
 * a deletion wins over every edit; otherwise the greater revision wins, a message never
 * changed counting as revised at its own time. True when `incoming` should replace `current`.
 */
export function winsOver(incoming: Message, current: Message): boolean {
  if (current.deleted) return false;
  if (incoming.deleted) return true;
  return compareTimeUuid(incoming.revision ?? incoming.time, current.revision ?? current.time) > 0;
}

/**
 * Adds server messages from any source (a history page, a live burst, a send's or a change's
 * answer). A message already present is kept once, replaced only by a state that wins over
 * it; a pending bubble with the same client_message_id is replaced by the message. Returns
 * the same timeline when nothing changed.
 */
export function mergeMessages(timeline: Timeline, incoming: readonly Message[]): Timeline {
  if (incoming.length === 0) return timeline;
  const byId = new Map<string, Message>();
  for (const message of timeline.messages) byId.set(message.message_id, message);
  let added = false;
  let replaced = false;
  for (const message of incoming) {
    const current = byId.get(message.message_id);
    if (!current) {
      byId.set(message.message_id, message);
      added = true;
    } else if (winsOver(message, current)) {
      // A later state keeps the client_message_id the first one carried (bursts may omit it).
      byId.set(message.message_id, { ...message, client_message_id: message.client_message_id ?? current.client_message_id });
      replaced = true;
    }
  }
  const confirmed = new Set(
    incoming.map((message) => message.client_message_id).filter((id): id is string => !!id),
  );
  const pending = timeline.pending.filter((item) => !confirmed.has(item.clientMessageId));
  if (!added && !replaced && pending.length === timeline.pending.length) return timeline;
  let messages = timeline.messages;
  if (added) messages = [...byId.values()].sort(compareMessages);
  else if (replaced) messages = timeline.messages.map((message) => byId.get(message.message_id) ?? message);
  return { messages, pending };
}

/** Shows a just-written message at the end, before the server has answered. */
export function addPending(timeline: Timeline, message: PendingMessage): Timeline {
  const known =
    timeline.pending.some((item) => item.clientMessageId === message.clientMessageId) ||
    timeline.messages.some((item) => item.client_message_id === message.clientMessageId);
  if (known) return timeline;
  return { ...timeline, pending: [...timeline.pending, message] };
}

export function markPending(
  timeline: Timeline,
  clientMessageId: string,
  status: PendingMessage["status"],
  error: string | null = null,
): Timeline {
  let changed = false;
  const pending = timeline.pending.map((item) => {
    if (item.clientMessageId !== clientMessageId) return item;
    changed = true;
    return { ...item, status, error };
  });
  return changed ? { ...timeline, pending } : timeline;
}

export function findPending(timeline: Timeline, clientMessageId: string): PendingMessage | undefined {
  return timeline.pending.find((item) => item.clientMessageId === clientMessageId);
}

export function oldestMessage(timeline: Timeline): Message | undefined {
  return timeline.messages[0];
}

export function newestMessage(timeline: Timeline): Message | undefined {
  return timeline.messages[timeline.messages.length - 1];
}

/** The newest message written by `userId` (e.g. the peer's, to mark the chat read). */
export function newestMessageFrom(timeline: Timeline, userId: string): Message | undefined {
  for (let i = timeline.messages.length - 1; i >= 0; i -= 1) {
    const message = timeline.messages[i] as Message;
    if (message.from_user === userId) return message;
  }
  return undefined;
}

/**
 * The message under which "Seen" shows: the last of my messages at or before the peer's
 * read mark (a TimeUUID), or null when the peer has read none of them.
 */
export function lastSeenMessageId(timeline: Timeline, myId: string, peerReadUpTo: string | null): string | null {
  if (!peerReadUpTo) return null;
  for (let i = timeline.messages.length - 1; i >= 0; i -= 1) {
    const message = timeline.messages[i] as Message;
    if (message.from_user !== myId) continue;
    if (compareTimeUuid(message.time, peerReadUpTo) <= 0) return message.message_id;
  }
  return null;
}

/**
 * How far the peer has surely read: their read mark, or their newest message in the timeline
 * when it is later (a reply is written with the chat open; the service moves the sender's
 * stored mark with a send but publishes no read mark for it). Null when neither exists.
 */
export function peerReadUpTo(timeline: Timeline, peerId: string, peerMark: string | null): string | null {
  const reply = newestMessageFrom(timeline, peerId)?.time ?? null;
  if (!reply) return peerMark;
  return peerMark && compareTimeUuid(peerMark, reply) >= 0 ? peerMark : reply;
}

/** What the message list renders: server messages in time order, then pending ones. */
export function timelineEntries(timeline: Timeline): TimelineEntry[] {
  const sent: TimelineEntry[] = timeline.messages.map((message) => ({
    // Keyed by client_message_id when there is one, so a confirmed bubble keeps its element.
    key: message.client_message_id ? `client:${message.client_message_id}` : message.message_id,
    messageId: message.message_id,
    clientMessageId: message.client_message_id ?? null,
    time: message.time,
    timeIso: message.time_iso,
    fromUser: message.from_user,
    body: message.deleted ? "" : message.body,
    editedAt: message.edited_at ?? null,
    deleted: message.deleted === true,
    status: "sent",
    error: null,
  }));
  const waiting: TimelineEntry[] = timeline.pending.map((item) => ({
    key: `client:${item.clientMessageId}`,
    messageId: null,
    clientMessageId: item.clientMessageId,
    time: null,
    timeIso: null,
    fromUser: item.fromUser,
    body: item.body,
    editedAt: null,
    deleted: false,
    status: item.status,
    error: item.error,
  }));
  return [...sent, ...waiting];
}
