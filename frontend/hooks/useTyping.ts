"use client";

import { useCallback, useEffect, useState } from "react";
import { listenWhenLoaded } from "@/lib/firebase";
import { watchMemberDocument } from "@/lib/live";
import { TypingWrites, typingShownFor, typingUntil } from "@/lib/typing";

interface Options {
  chatId: string;
  myId: string;
  peerId: string;
  /** Both members' ids in the chat's order (what the typing document's `members` holds). */
  members: readonly string[];
  enabled: boolean;
}

/**
 * "typing…" both ways: `noteTyping` on each change of the draft writes this member's typing
 * document at most once per interval, `noteSent` ends it (`TypingWrites`); `peerTyping`
 * follows the peer's document and turns false by itself when its `until` passes.
 */
export function useTyping({ chatId, myId, peerId, members, enabled }: Options) {
  const [peerTyping, setPeerTyping] = useState(false);
  // Typing is a nicety: a write that fails is dropped (the next keystroke writes again) and
  // must never get in the way of writing or sending a message.
  const [writes] = useState(() => new TypingWrites());
  const membersKey = members.join(",");

  useEffect(() => {
    if (!enabled || !peerId) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = listenWhenLoaded((db) => {
      writes.writeTo({ db, chatId, uid: myId, members: membersKey.split(",") });
      return watchMemberDocument(db, { chatId, collection: "typing", uid: peerId }, typingUntil, (until) => {
        clearTimeout(timer);
        const left = typingShownFor(until, Date.now());
        setPeerTyping(left > 0);
        if (left > 0) timer = setTimeout(() => setPeerTyping(false), left);
      });
    });
    return () => {
      stop();
      clearTimeout(timer);
      writes.writeTo(null);
    };
  }, [enabled, chatId, myId, peerId, membersKey, writes]);

  const noteTyping = useCallback(() => writes.typed(Date.now()), [writes]);
  const noteSent = useCallback(() => writes.sent(Date.now()), [writes]);

  return { peerTyping: enabled && peerTyping, noteTyping, noteSent };
}
