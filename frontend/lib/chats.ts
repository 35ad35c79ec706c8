/** Pure helpers over the chat list: who the other person is, ordering, live previews, unread. */

import type { Chat, LastMessage, Message } from "./api-types";
import { isNewerIso, isoToMicros } from "./iso-time";
import { compareTimeUuid } from "./timeuuid";

export function otherMember(chat: Chat, myId: string): { id: string; username: string } {
  const index = chat.users_id[0] === myId ? 1 : 0;
  return { id: chat.users_id[index] ?? "", username: chat.users_name[index] ?? "" };
}

export function activityOf(chat: Chat): string {
  return chat.last_activity ?? chat.last_message?.time_iso ?? chat.created_at;
}

/** Newest activity first. */
export function sortChats(chats: readonly Chat[]): Chat[] {
  return [...chats].sort((a, b) => isoToMicros(activityOf(b)) - isoToMicros(activityOf(a)));
}

function preview(message: Message): LastMessage {
  return {
    message_id: message.message_id,
    from_user: message.from_user,
    body: message.deleted ? "" : message.body,
    time: message.time,
    time_iso: message.time_iso,
    edited_at: message.edited_at,
    deleted: message.deleted,
  };
}

/** Whether `message` is a later state of the preview `last` (an edit after it, or a deletion). */
function changes(message: Message, last: LastMessage): boolean {
  if (message.message_id !== last.message_id || last.deleted) return false;
  if (message.deleted) return true;
  return !!message.edited_at && isNewerIso(message.edited_at, last.edited_at);
}

/**
 * The chat with its preview moved to the newest of these messages, if it is newer, or
 * replaced by a later state of the message it shows.
 */
export function withLatest(chat: Chat, messages: readonly Message[]): Chat {
  let newest: Message | null = null;
  for (const message of messages) {
    if (!newest || isNewerIso(message.time_iso, newest.time_iso)) newest = message;
  }
  if (!newest) return chat;
  const last = chat.last_message;
  const changed = last ? messages.find((message) => changes(message, last)) : undefined;
  const current = last?.time_iso ?? chat.last_activity ?? null;
  if (current && !isNewerIso(newest.time_iso, current)) {
    return changed ? { ...chat, last_message: preview(changed) } : chat;
  }
  return { ...chat, last_activity: newest.time_iso, last_message: preview(newest) };
}

/**
 * The chat read up to `upTo` (a TimeUUID) by this tab: its `read_up_to` moved forward, never
 * back. The service's own mark may lag behind it for a while (it coalesces marks).
 */
export function withReadMark(chat: Chat, upTo: string | null | undefined): Chat {
  if (!upTo || (chat.read_up_to && compareTimeUuid(chat.read_up_to, upTo) >= 0)) return chat;
  return { ...chat, read_up_to: upTo };
}

/** A fresh server list, keeping any newer preview and any further read mark learnt meanwhile. */
export function mergeChatLists(fresh: readonly Chat[], known: readonly Chat[]): Chat[] {
  const byId = new Map(known.map((chat) => [chat.chat_id, chat]));
  return sortChats(
    fresh.map((chat) => {
      const before = byId.get(chat.chat_id);
      const marked = withReadMark(chat, before?.read_up_to);
      const seen = before?.last_message;
      if (!seen) return marked;
      const message: Message = {
        ...seen,
        chat_id: chat.chat_id,
        to_user: "",
        edited_at: seen.edited_at ?? null,
        revision: null,
      };
      return withLatest(marked, [message]);
    }),
  );
}

export interface Unread {
  count: number;
  /** More than the service counts (99): shown as "99+". */
  capped: boolean;
}

const NONE: Unread = { count: 0, capped: false };

/**
 * The chat's unread count for the badge: the service's, unless the chat's latest message is
 * not newer than its read mark (this tab's mark may be ahead of the one the count came with).
 */
export function unreadOf(chat: Chat): Unread {
  const last = chat.last_message;
  if (last && chat.read_up_to && compareTimeUuid(last.time, chat.read_up_to) <= 0) return NONE;
  return { count: chat.unread_count ?? 0, capped: chat.unread_count_capped === true };
}

export function unreadText({ count, capped }: Unread): string {
  return capped ? "99+" : String(count);
}

/** The list's one-line preview of the latest message. */
export function previewText(chat: Chat, myId: string): string {
  const last = chat.last_message;
  if (!last) return "No messages yet";
  const text = last.deleted ? "Message deleted" : last.body.replace(/\s+/g, " ").trim();
  return last.from_user === myId ? `You: ${text}` : text;
}
