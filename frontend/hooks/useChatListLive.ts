"use client";

import { useEffect, useState } from "react";
import { useLatest } from "./useLatest";
import type { Chat, Message } from "@/lib/api-types";
import { listenWhenLoaded } from "@/lib/firebase";
import { type LiveState, watchBursts } from "@/lib/live";

/** At most this many chats of the list are watched for previews and unread counts. */
export const WATCHED_CHATS = 25;

interface Options {
  chats: readonly Chat[];
  myId: string;
  enabled: boolean;
  onMessages: (chatId: string, messages: Message[]) => void;
}

/**
 * Watches the bursts of the first chats of the list, each from its last activity, and reports
 * their messages (new ones and changed ones). Returns the combined listener state.
 */
export function useChatListLive({ chats, myId, enabled, onMessages }: Options): LiveState | null {
  // Read by the listeners between renders.
  const chatsRef = useLatest(chats);
  const onMessagesRef = useLatest(onMessages);
  const [states, setStates] = useState<{ key: string; byChat: Record<string, LiveState> }>({ key: "", byChat: {} });

  const watchedIds = chats
    .slice(0, WATCHED_CHATS)
    .map((chat) => chat.chat_id)
    .sort()
    .join(",");
  const key = `${enabled}:${watchedIds}`;

  useEffect(() => {
    if (!enabled || watchedIds === "") return;
    const ids = watchedIds.split(",");
    // States of an earlier set of watched chats are dropped by their key.
    const report = (chatId: string, state: LiveState) =>
      setStates((current) => ({
        key,
        byChat: { ...(current.key === key ? current.byChat : {}), [chatId]: state },
      }));
    return listenWhenLoaded(
      (db) => {
        const stops = ids.map((chatId) =>
          watchBursts({
            db,
            chatId,
            uid: myId,
            since: () => chatsRef.current.find((chat) => chat.chat_id === chatId)?.last_activity ?? null,
            onMessages: (messages) => onMessagesRef.current(chatId, messages),
            onState: (state) => report(chatId, state),
          }),
        );
        return () => stops.forEach((stop) => stop());
      },
      () => report("config", "error"),
    );
  }, [enabled, watchedIds, myId, key, chatsRef, onMessagesRef]);

  if (!enabled) return null;
  if (watchedIds === "") return "live";
  const values = states.key === key ? Object.values(states.byChat) : [];
  if (values.includes("error")) return "error";
  if (values.length < watchedIds.split(",").length || values.includes("connecting")) return "connecting";
  return "live";
}
