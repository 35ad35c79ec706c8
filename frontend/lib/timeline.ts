/**
 * The conversation's timeline: history pages, live bursts and optimistic bubbles merged into
 * one ordered list, without duplicates. Pure functions over immutable values.
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
  status: MessageStatus;
  error: string | null;
}

export const EMPTY_TIMELINE: Timeline = { messages: [], pending: [] };

export function compareMessages(a: Message, b: Message): number {
  return compareTimeUuid(a.time, b.time) || (a.message_id < b.message_id ? -1 : a.message_id > b.message_id ? 1 : 0);
}

/**
 * Adds server messages from any source (a history page, a live burst, a send's answer).
 * A message already present is kept once; a pending bubble with the same client_message_id
 * is replaced by it. Returns the same timeline when nothing changed.
 */
export function mergeMessages(timeline: Timeline, incoming: readonly Message[]): Timeline {
  if (incoming.length === 0) return timeline;
  const byId = new Map<string, Message>();
  for (const message of timeline.messages) byId.set(message.message_id, message);
  let added = false;
  for (const message of incoming) {
    if (!byId.has(message.message_id)) {
      byId.set(message.message_id, message);
      added = true;
    }
  }
  const confirmed = new Set(
    incoming.map((message) => message.client_message_id).filter((id): id is string => !!id),
  );
  const pending = timeline.pending.filter((item) => !confirmed.has(item.clientMessageId));
  if (!added && pending.length === timeline.pending.length) return timeline;
  const messages = added ? [...byId.values()].sort(compareMessages) : timeline.messages;
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
    body: message.body,
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
    status: item.status,
    error: item.error,
  }));
  return [...sent, ...waiting];
}
