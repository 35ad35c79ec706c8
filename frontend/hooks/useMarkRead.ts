"use client";

import { useEffect, useRef } from "react";
import type { ChatApi } from "@/lib/api";
import { compareTimeUuid } from "@/lib/timeuuid";

interface Options {
  api: ChatApi;
  chatId: string;
  /** TimeUUID of the newest message from the other member shown, if any. */
  upTo: string | null;
  /** How far the chat is known to be read (the list's `read_up_to`); nothing is sent up to it. */
  readUpTo: string | null;
  enabled: boolean;
  /** Called once the service holds the mark, so the chat list clears the badge. */
  onMarked: (chatId: string, upTo: string) => void;
}

/**
 * Marks the open chat read up to the peer's newest message while the tab is visible: once per
 * new newest message not already read (the service coalesces marks further), again when the
 * tab is shown after a failure.
 */
export function useMarkRead({ api, chatId, upTo, readUpTo, enabled, onMarked }: Options): void {
  const sent = useRef<string | null>(null);
  useEffect(() => {
    if (!enabled || !upTo || (readUpTo && compareTimeUuid(readUpTo, upTo) >= 0)) return;
    const mark = () => {
      if (document.visibilityState !== "visible" || sent.current === upTo) return;
      sent.current = upTo;
      api.markRead(chatId, upTo).then(
        () => onMarked(chatId, upTo),
        () => {
          // Tried again when the tab is shown next or a newer message comes.
          if (sent.current === upTo) sent.current = null;
        },
      );
    };
    mark();
    document.addEventListener("visibilitychange", mark);
    return () => document.removeEventListener("visibilitychange", mark);
  }, [api, chatId, upTo, readUpTo, enabled, onMarked]);
}
