"use client";

import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import type { ChatApi } from "@/lib/api";
import type { Message } from "@/lib/api-types";
import { keepTrying } from "@/lib/backoff";
import { newClientMessageId } from "@/lib/client-id";
import { INITIAL_CONVERSATION, conversationReducer } from "@/lib/conversation-state";
import { ApiError, formatApiError } from "@/lib/errors";
import { listenWhenLoaded } from "@/lib/firebase";
import { type LiveState, watchBursts } from "@/lib/live";
import { type Timeline, findPending, newestMessage, oldestMessage } from "@/lib/timeline";
import type { FirebaseState } from "@/components/SessionProvider";
import { useLatest } from "./useLatest";

const PAGE_SIZE = 30;
/** Without live updates, the newest page is fetched this often instead. */
const POLL_MS = 5_000;

interface Options {
  api: ChatApi;
  chatId: string;
  me: { id: string };
  other: { id: string };
  firebaseState: FirebaseState;
  /** Messages of this chat from any source, for the chat list's preview. */
  onMessages: (chatId: string, messages: Message[]) => void;
}

/**
 * One open conversation: its history (newest page, then older pages), its live bursts (or a
 * poll without Firebase), sending with optimistic bubbles, and editing or deleting my messages.
 */
export function useConversation({ api, chatId, me, other, firebaseState, onMessages }: Options) {
  const [state, dispatch] = useReducer(conversationReducer, INITIAL_CONVERSATION);
  const [liveState, setLiveState] = useState<LiveState | null>(null);
  // What callbacks and the listener read between renders.
  const timelineRef = useLatest<Timeline>(state.timeline);

  const merge = useCallback(
    (messages: readonly Message[]) => {
      const own = messages.filter((message) => message.chat_id === chatId || message.chat_id === "");
      if (own.length === 0) return;
      dispatch({ type: "messages_arrived", messages: own });
      onMessages(chatId, own);
    },
    [chatId, onMessages],
  );

  const fetchNewest = useCallback(() => api.history(chatId, { quantity: PAGE_SIZE }), [api, chatId]);
  const showNewest = useCallback(
    (page: Message[]) => {
      dispatch({ type: "newest_loaded", page, pageSize: PAGE_SIZE });
      onMessages(chatId, page);
    },
    [chatId, onMessages],
  );
  const newestFailed = useCallback((failure: unknown) => {
    dispatch({ type: "newest_failed", error: formatApiError(failure) });
  }, []);

  /** The newest page once more (a catch-up, the "Try again" button). */
  const loadNewest = useCallback(async () => {
    dispatch({ type: "newest_requested" });
    try {
      showNewest(await fetchNewest());
    } catch (failure) {
      newestFailed(failure);
    }
  }, [fetchNewest, showNewest, newestFailed]);

  // The first page, tried again by itself with back-off until it loads (the chat service
  // restarting, the network gone for a moment): live updates start only once it has loaded,
  // so without this the conversation would stay empty until someone pressed "Try again".
  useEffect(
    () =>
      keepTrying(fetchNewest, showNewest, (failure) => {
        newestFailed(failure);
        return true;
      }),
    [fetchNewest, showNewest, newestFailed],
  );

  // Older pages, strictly before the oldest message held; one request at a time.
  const loadingOlder = useRef(false);
  const loadOlder = useCallback(async () => {
    const oldest = oldestMessage(timelineRef.current);
    if (loadingOlder.current || !oldest) return;
    loadingOlder.current = true;
    dispatch({ type: "older_requested" });
    try {
      const page = await api.history(chatId, { quantity: PAGE_SIZE, before: oldest.time });
      dispatch({ type: "older_loaded", page, pageSize: PAGE_SIZE });
    } catch (failure) {
      dispatch({ type: "older_failed", error: formatApiError(failure) });
    } finally {
      loadingOlder.current = false;
    }
  }, [api, chatId, timelineRef]);

  const ready = state.phase === "ready";

  // Live bursts changed since the newest message the history gave (all bursts for an empty chat).
  const liveWanted = ready && firebaseState === "ready";
  useEffect(() => {
    if (!liveWanted) return;
    const stop = listenWhenLoaded(
      (db) =>
        watchBursts({
          db,
          chatId,
          uid: me.id,
          since: () => newestMessage(timelineRef.current)?.time_iso ?? null,
          onMessages: merge,
          onState: setLiveState,
        }),
      () => setLiveState("error"),
    );
    return () => {
      stop();
      setLiveState(null);
    };
  }, [liveWanted, chatId, me.id, merge, timelineRef]);

  // Catch up after the network comes back or the tab is shown again, and poll when
  // live updates are unavailable.
  useEffect(() => {
    if (!ready) return;
    const catchUp = () => {
      if (document.visibilityState === "visible") void loadNewest();
    };
    window.addEventListener("online", catchUp);
    document.addEventListener("visibilitychange", catchUp);
    const poll = firebaseState === "failed" ? setInterval(catchUp, POLL_MS) : null;
    return () => {
      window.removeEventListener("online", catchUp);
      document.removeEventListener("visibilitychange", catchUp);
      if (poll) clearInterval(poll);
    };
  }, [ready, firebaseState, loadNewest]);

  const deliver = useCallback(
    async (clientMessageId: string, body: string) => {
      try {
        const message = await api.send({ chat_id: chatId, to_user: other.id, body, client_message_id: clientMessageId });
        merge([{ ...message, client_message_id: message.client_message_id ?? clientMessageId }]);
      } catch (failure) {
        if (failure instanceof ApiError && failure.status === 401) return; // the session ends
        const error = formatApiError(failure, "send");
        dispatch({ type: "pending_marked", clientMessageId, status: "failed", error });
      }
    },
    [api, chatId, other.id, merge],
  );

  const send = useCallback(
    (body: string) => {
      const clientMessageId = newClientMessageId();
      dispatch({
        type: "pending_added",
        message: { clientMessageId, chatId, fromUser: me.id, toUser: other.id, body, status: "sending", error: null },
      });
      void deliver(clientMessageId, body);
    },
    [chatId, me.id, other.id, deliver],
  );

  const retry = useCallback(
    (clientMessageId: string) => {
      const pending = findPending(timelineRef.current, clientMessageId);
      if (!pending || pending.status === "sending") return;
      dispatch({ type: "pending_marked", clientMessageId, status: "sending", error: null });
      void deliver(clientMessageId, pending.body);
    },
    [deliver, timelineRef],
  );

  /** Saves a new body for one of my messages; rejects with the words to show. */
  const edit = useCallback(
    async (time: string, body: string) => merge([await changing(() => api.editMessage(chatId, time, body))]),
    [api, chatId, merge],
  );

  /** Deletes one of my messages; rejects with the words to show. */
  const remove = useCallback(
    async (time: string) => merge([await changing(() => api.deleteMessage(chatId, time))]),
    [api, chatId, merge],
  );

  return { ...state, liveState, loadNewest, loadOlder, send, retry, edit, remove };
}

async function changing(call: () => Promise<Message>): Promise<Message> {
  try {
    return await call();
  } catch (failure) {
    throw new Error(formatApiError(failure, "change"), { cause: failure });
  }
}
