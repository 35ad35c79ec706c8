"use client";

import { useEffect, useRef, useState } from "react";
import type { Chat, Message } from "@/lib/api-types";
import { firebase } from "@/lib/firebase";
import { type LiveState, watchBursts } from "@/lib/live";
import { loadSeen } from "@/lib/local-state";

/** At most this many chats of the list are watched for badges. */
export const WATCHED_CHATS = 25;

interface Options {
  chats: readonly Chat[];
  myId: string;
  enabled: boolean;
  onMessages: (chatId: string, messages: Message[]) => void;
}

/**
 * Watches the bursts of the first chats of the list, each from the last time seen there
 * (or its last activity), and reports their messages. Returns the combined listener state.
 */
export function useChatListLive({ chats, myId, enabled, onMessages }: Options): LiveState | null {
  const chatsRef = useRef(chats);
  chatsRef.current = chats;
  const onMessagesRef = useRef(onMessages);
  onMessagesRef.current = onMessages;
  const [states, setStates] = useState<Record<string, LiveState>>({});

  const watchedIds = chats
    .slice(0, WATCHED_CHATS)
    .map((chat) => chat.chat_id)
    .sort()
    .join(",");

  useEffect(() => {
    setStates({});
    if (!enabled || watchedIds === "") return;
    const ids = watchedIds.split(",");
    const stops: (() => void)[] = [];
    let cancelled = false;
    firebase().then(
      ({ db }) => {
        if (cancelled) return;
        for (const chatId of ids) {
          stops.push(
            watchBursts({
              db,
              chatId,
              uid: myId,
              since: () =>
                loadSeen(myId, chatId) ??
                chatsRef.current.find((chat) => chat.chat_id === chatId)?.last_activity ??
                null,
              onMessages: (messages) => onMessagesRef.current(chatId, messages),
              onState: (state) => setStates((current) => ({ ...current, [chatId]: state })),
            }),
          );
        }
      },
      () => {
        if (!cancelled) setStates({ config: "error" });
      },
    );
    return () => {
      cancelled = true;
      stops.forEach((stop) => stop());
    };
  }, [enabled, watchedIds, myId]);

  if (!enabled) return null;
  const values = Object.values(states);
  if (watchedIds === "") return "live";
  if (values.includes("error")) return "error";
  if (values.length < watchedIds.split(",").length || values.includes("connecting")) return "connecting";
  return "live";
}
