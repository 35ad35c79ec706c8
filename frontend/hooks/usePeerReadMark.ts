"use client";

import { useEffect, useState } from "react";
import { listenWhenLoaded } from "@/lib/firebase";
import { readMarkOf, watchMemberDocument } from "@/lib/live";
import { compareTimeUuid } from "@/lib/timeuuid";

/** The TimeUUID up to which the other member has read this chat, live from their read mark. */
export function usePeerReadMark(chatId: string, peerId: string, enabled: boolean): string | null {
  const [mark, setMark] = useState<string | null>(null);
  useEffect(() => {
    if (!enabled || !peerId) return;
    // Without Firebase there is no mark, and nothing else is affected.
    return listenWhenLoaded((db) =>
      watchMemberDocument(db, { chatId, collection: "reads", uid: peerId }, readMarkOf, (upTo) => {
        // A mark never moves back; a snapshot from cache may be older than one already shown.
        if (upTo) setMark((current) => (current && compareTimeUuid(current, upTo) >= 0 ? current : upTo));
      }),
    );
  }, [chatId, peerId, enabled]);
  return mark;
}
