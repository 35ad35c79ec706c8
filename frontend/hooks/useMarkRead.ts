"use client";

import { useEffect, useRef } from "react";
import type { ChatApi } from "@/lib/api";

interface Options {
  api: ChatApi;
  chatId: string;
  /** TimeUUID of the newest message from the other member shown, if any. */
  upTo: string | null;
  enabled: boolean;
  /** Called when the mark is sent, so the chat list clears the badge at once. */
  onMarked: (chatId: string, upTo: string) => void;
}

/**
 * Marks the open chat read up to the peer's newest message while the tab is visible: once per
 * new newest message (the service coalesces marks further), again when the tab is shown.
 */
export function useMarkRead({ api, chatId, upTo, enabled, onMarked }: Options): void {
  const sent = useRef<string | null>(null);
  useEffect(() => {
    if (!enabled || !upTo) return;
    const mark = () => {
      if (document.visibilityState !== "visible" || sent.current === upTo) return;
      sent.current = upTo;
      onMarked(chatId, upTo);
      api.markRead(chatId, upTo).catch(() => {
        // Tried again when the tab is shown next or a newer message comes.
        if (sent.current === upTo) sent.current = null;
      });
    };
    mark();
    document.addEventListener("visibilitychange", mark);
    return () => document.removeEventListener("visibilitychange", mark);
  }, [api, chatId, upTo, enabled, onMarked]);
}
