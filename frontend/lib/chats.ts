/** Pure helpers over the chat list: who the other person is, ordering, live previews. */

import type { Chat, Message } from "./api-types";
import { isNewerIso, isoToMicros } from "./iso-time";

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

/** The chat with its preview moved to the newest of these messages, if it is newer. */
export function withLatest(chat: Chat, messages: readonly Message[]): Chat {
  let newest: Message | null = null;
  for (const message of messages) {
    if (!newest || isNewerIso(message.time_iso, newest.time_iso)) newest = message;
  }
  if (!newest) return chat;
  const current = chat.last_message?.time_iso ?? chat.last_activity ?? null;
  if (current && !isNewerIso(newest.time_iso, current)) return chat;
  return {
    ...chat,
    last_activity: newest.time_iso,
    last_message: {
      message_id: newest.message_id,
      from_user: newest.from_user,
      body: newest.body,
      time: newest.time,
      time_iso: newest.time_iso,
    },
  };
}

/** A fresh server list, keeping any newer preview learnt live meanwhile. */
export function mergeChatLists(fresh: readonly Chat[], known: readonly Chat[]): Chat[] {
  const byId = new Map(known.map((chat) => [chat.chat_id, chat]));
  return sortChats(
    fresh.map((chat) => {
      const seen = byId.get(chat.chat_id)?.last_message;
      return seen ? withLatest(chat, [{ ...seen, chat_id: chat.chat_id, to_user: "" }]) : chat;
    }),
  );
}
