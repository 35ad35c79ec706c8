"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Chat, Message } from "@/lib/api-types";
import type { ChatApi } from "@/lib/api";
import { otherMember } from "@/lib/chats";
import { newClientMessageId } from "@/lib/client-id";
import { ApiError, formatApiError } from "@/lib/errors";
import { firebase } from "@/lib/firebase";
import { type LiveState, watchBursts } from "@/lib/live";
import { loadDraft, saveDraft } from "@/lib/local-state";
import {
  EMPTY_TIMELINE,
  type Timeline,
  addPending,
  findPending,
  markPending,
  mergeMessages,
  newestMessage,
  oldestMessage,
  timelineEntries,
} from "@/lib/timeline";
import type { FirebaseState } from "./SessionProvider";
import Composer from "./Composer";
import MessageList from "./MessageList";

const PAGE_SIZE = 30;
/** Without live updates, the newest page is fetched this often instead. */
const POLL_MS = 5_000;

interface Props {
  api: ChatApi;
  me: { id: string; username: string };
  chat: Chat;
  firebaseState: FirebaseState;
  onMessages: (chatId: string, messages: Message[]) => void;
  onLiveState: (state: LiveState | null) => void;
  onBack: () => void;
}

type Phase = "loading" | "ready" | "error";

export default function Conversation({ api, me, chat, firebaseState, onMessages, onLiveState, onBack }: Props) {
  const chatId = chat.chat_id;
  const other = otherMember(chat, me.id);
  const [timeline, setTimeline] = useState<Timeline>(EMPTY_TIMELINE);
  const timelineRef = useRef(timeline);
  timelineRef.current = timeline;
  const [phase, setPhase] = useState<Phase>("loading");
  const [loadError, setLoadError] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(true);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [olderError, setOlderError] = useState<string | null>(null);
  const [draft, setDraft] = useState(() => loadDraft(me.id, chatId));

  const merge = useCallback(
    (messages: Message[]) => {
      const own = messages.filter((message) => message.chat_id === chatId || message.chat_id === "");
      if (own.length === 0) return;
      setTimeline((current) => mergeMessages(current, own));
      onMessages(chatId, own);
    },
    [chatId, onMessages],
  );

  // The newest page first.
  const loadNewest = useCallback(async () => {
    setPhase((current) => (current === "ready" ? current : "loading"));
    setLoadError(null);
    try {
      const page = await api.history(chatId, { quantity: PAGE_SIZE });
      setHasMore((current) => (timelineRef.current.messages.length > 0 ? current : page.length === PAGE_SIZE));
      merge(page);
      setPhase("ready");
    } catch (failure) {
      setPhase((current) => {
        if (current !== "ready") setLoadError(formatApiError(failure));
        return current === "ready" ? current : "error";
      });
    }
  }, [api, chatId, merge]);

  useEffect(() => {
    void loadNewest();
  }, [loadNewest]);

  // Older pages, strictly before the oldest message held.
  const loadingOlderRef = useRef(false);
  const loadOlder = useCallback(async () => {
    const oldest = oldestMessage(timelineRef.current);
    if (loadingOlderRef.current || !oldest) return;
    loadingOlderRef.current = true;
    setLoadingOlder(true);
    setOlderError(null);
    try {
      const page = await api.history(chatId, { quantity: PAGE_SIZE, before: oldest.time });
      merge(page);
      if (page.length < PAGE_SIZE) setHasMore(false);
    } catch (failure) {
      setOlderError(formatApiError(failure));
    } finally {
      loadingOlderRef.current = false;
      setLoadingOlder(false);
    }
  }, [api, chatId, merge]);

  // Live bursts, from the newest message the history gave (all bursts for an empty chat).
  const [liveState, setLiveState] = useState<LiveState | null>(null);
  useEffect(() => {
    if (phase !== "ready" || firebaseState !== "ready") {
      setLiveState(null);
      return;
    }
    let stop: (() => void) | null = null;
    let cancelled = false;
    firebase().then(
      ({ db }) => {
        if (cancelled) return;
        stop = watchBursts({
          db,
          chatId,
          uid: me.id,
          since: () => newestMessage(timelineRef.current)?.time_iso ?? null,
          onMessages: merge,
          onState: setLiveState,
        });
      },
      () => !cancelled && setLiveState("error"),
    );
    return () => {
      cancelled = true;
      stop?.();
    };
  }, [phase, firebaseState, chatId, me.id, merge]);

  useEffect(() => {
    onLiveState(liveState);
  }, [liveState, onLiveState]);
  useEffect(() => () => onLiveState(null), [onLiveState]);

  // Catch up after the network comes back or the tab is shown again, and poll when
  // live updates are unavailable.
  useEffect(() => {
    const catchUp = () => {
      if (document.visibilityState === "visible" && phase === "ready") void loadNewest();
    };
    window.addEventListener("online", catchUp);
    document.addEventListener("visibilitychange", catchUp);
    const poll = firebaseState === "failed" && phase === "ready" ? setInterval(catchUp, POLL_MS) : null;
    return () => {
      window.removeEventListener("online", catchUp);
      document.removeEventListener("visibilitychange", catchUp);
      if (poll) clearInterval(poll);
    };
  }, [phase, firebaseState, loadNewest]);

  const deliver = useCallback(
    async (clientMessageId: string, body: string) => {
      try {
        const message = await api.send({ chat_id: chatId, to_user: other.id, body, client_message_id: clientMessageId });
        merge([{ ...message, client_message_id: message.client_message_id ?? clientMessageId }]);
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 401) return; // session ends
        setTimeline((current) => markPending(current, clientMessageId, "failed", formatApiError(failure, "send")));
      }
    },
    [api, chatId, other.id, merge],
  );

  const changeDraft = (value: string) => {
    setDraft(value);
    saveDraft(me.id, chatId, value);
  };

  const send = () => {
    const body = draft.trim();
    if (!body) return;
    const clientMessageId = newClientMessageId();
    setTimeline((current) =>
      addPending(current, {
        clientMessageId,
        chatId,
        fromUser: me.id,
        toUser: other.id,
        body,
        status: "sending",
        error: null,
      }),
    );
    changeDraft("");
    void deliver(clientMessageId, body);
  };

  const retry = useCallback(
    (clientMessageId: string) => {
      const pending = findPending(timelineRef.current, clientMessageId);
      if (!pending || pending.status === "sending") return;
      setTimeline((current) => markPending(current, clientMessageId, "sending"));
      void deliver(clientMessageId, pending.body);
    },
    [deliver],
  );

  const entries = useMemo(() => timelineEntries(timeline), [timeline]);

  return (
    <section aria-label={`Conversation with ${other.username}`} className="conversation">
      <header className="conversation-header">
        <button type="button" className="back" onClick={onBack}>
          <span aria-hidden="true">←</span> Back to chats
        </button>
        <h2>{other.username}</h2>
      </header>
      {phase === "loading" ? <p className="muted center">Loading messages…</p> : null}
      {phase === "error" ? (
        <div className="center">
          <p role="alert" className="error">
            {loadError}
          </p>
          <button type="button" className="secondary" onClick={() => void loadNewest()}>
            Try again
          </button>
        </div>
      ) : null}
      {phase === "ready" ? (
        <MessageList
          entries={entries}
          myId={me.id}
          myName={me.username}
          otherName={other.username}
          hasMore={hasMore}
          loadingOlder={loadingOlder}
          olderError={olderError}
          onLoadOlder={loadOlder}
          onRetry={retry}
        />
      ) : null}
      <Composer value={draft} onChange={changeDraft} onSend={send} />
    </section>
  );
}
