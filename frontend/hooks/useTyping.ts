"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { listenWhenLoaded } from "@/lib/firebase";
import { watchMemberDocument } from "@/lib/live";
import {
  TYPING_FOR_MS,
  type TypingDoc,
  typingShownFor,
  typingUntil,
  typingWriteDue,
  writeTyping,
} from "@/lib/typing";

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
 * document at most once per interval, `noteSent` ends it; `peerTyping` follows the peer's
 * document and turns false by itself when its `until` passes. A failed write is ignored: it
 * must never get in the way of writing or sending a message.
 */
export function useTyping({ chatId, myId, peerId, members, enabled }: Options) {
  const [peerTyping, setPeerTyping] = useState(false);
  const target = useRef<TypingDoc | null>(null);
  const lastWrite = useRef<number | null>(null);
  const membersKey = members.join(",");

  useEffect(() => {
    if (!enabled || !peerId) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = listenWhenLoaded((db) => {
      target.current = { db, chatId, uid: myId, members: membersKey.split(",") };
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
      target.current = null;
    };
  }, [enabled, chatId, myId, peerId, membersKey]);

  const write = useCallback((until: number) => {
    const typingDoc = target.current;
    if (!typingDoc) return;
    try {
      writeTyping(typingDoc, until).catch(() => undefined);
    } catch {
      // Refused before it was sent (e.g. the client is shutting down): typing is a nicety.
    }
  }, []);

  const noteTyping = useCallback(() => {
    const now = Date.now();
    if (!typingWriteDue(lastWrite.current, now)) return;
    lastWrite.current = now;
    write(now + TYPING_FOR_MS);
  }, [write]);

  const noteSent = useCallback(() => {
    const now = Date.now();
    const wrote = lastWrite.current;
    lastWrite.current = null;
    // Only when the peer may still be shown "typing…" from our last write.
    if (wrote !== null && now - wrote < TYPING_FOR_MS) write(now);
  }, [write]);

  return { peerTyping: enabled && peerTyping, noteTyping, noteSent };
}
