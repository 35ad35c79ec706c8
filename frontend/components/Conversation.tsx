"use client";

import { useEffect, useMemo, useState } from "react";
import { useConversation } from "@/hooks/useConversation";
import { useMarkRead } from "@/hooks/useMarkRead";
import { usePeerReadMark } from "@/hooks/usePeerReadMark";
import { useTyping } from "@/hooks/useTyping";
import type { Chat, Message } from "@/lib/api-types";
import type { ChatApi } from "@/lib/api";
import { otherMember } from "@/lib/chats";
import type { LiveState } from "@/lib/live";
import { loadDraft, saveDraft } from "@/lib/local-state";
import { lastSeenMessageId, newestMessageFrom, peerReadUpTo, timelineEntries } from "@/lib/timeline";
import type { FirebaseState } from "./SessionProvider";
import Composer from "./Composer";
import MessageList from "./MessageList";

interface Props {
  api: ChatApi;
  me: { id: string; username: string };
  chat: Chat;
  firebaseState: FirebaseState;
  onMessages: (chatId: string, messages: Message[]) => void;
  /** The service holds this tab's mark of the chat up to a message (the list clears its badge). */
  onRead: (chatId: string, upTo: string) => void;
  onLiveState: (state: LiveState | null) => void;
  onBack: () => void;
}

export default function Conversation({ api, me, chat, firebaseState, onMessages, onRead, onLiveState, onBack }: Props) {
  const chatId = chat.chat_id;
  const other = otherMember(chat, me.id);
  const conversation = useConversation({ api, chatId, me, other, firebaseState, onMessages });
  const { timeline, phase, liveState } = conversation;
  const [draft, setDraft] = useState(() => loadDraft(me.id, chatId));
  const firebaseReady = firebaseState === "ready";
  const typing = useTyping({ chatId, myId: me.id, peerId: other.id, members: chat.users_id, enabled: firebaseReady });
  const peerMark = usePeerReadMark(chatId, other.id, firebaseReady);
  useMarkRead({
    api,
    chatId,
    upTo: newestMessageFrom(timeline, other.id)?.time ?? null,
    readUpTo: chat.read_up_to ?? null,
    enabled: phase === "ready",
    onMarked: onRead,
  });

  useEffect(() => {
    onLiveState(liveState);
  }, [liveState, onLiveState]);
  useEffect(() => () => onLiveState(null), [onLiveState]);

  const changeDraft = (value: string) => {
    setDraft(value);
    saveDraft(me.id, chatId, value);
    if (value.trim()) typing.noteTyping();
  };

  const send = () => {
    const body = draft.trim();
    if (!body) return;
    setDraft("");
    saveDraft(me.id, chatId, "");
    typing.noteSent();
    conversation.send(body);
  };

  const entries = useMemo(() => timelineEntries(timeline), [timeline]);
  const seenId = useMemo(
    () => lastSeenMessageId(timeline, me.id, peerReadUpTo(timeline, other.id, peerMark)),
    [timeline, me.id, other.id, peerMark],
  );

  return (
    <section aria-label={`Conversation with ${other.username}`} className="conversation">
      <header className="conversation-header">
        <button type="button" className="back" onClick={onBack}>
          <span aria-hidden="true">←</span> Back to chats
        </button>
        <div className="conversation-title">
          <h2>{other.username}</h2>
          <p className="typing" data-testid="typing" role="status" aria-live="polite">
            {typing.peerTyping ? "typing…" : ""}
          </p>
        </div>
      </header>
      {phase === "loading" ? <p className="muted center">Loading messages…</p> : null}
      {phase === "error" ? (
        <div className="center">
          <p role="alert" className="error">
            {conversation.loadError}
          </p>
          <p className="muted">Trying again by itself…</p>
          <button type="button" className="secondary" onClick={() => void conversation.loadNewest()}>
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
          seenId={seenId}
          hasMore={conversation.hasMore}
          loadingOlder={conversation.loadingOlder}
          olderError={conversation.olderError}
          onLoadOlder={conversation.loadOlder}
          onRetry={conversation.retry}
          onEdit={conversation.edit}
          onDelete={conversation.remove}
        />
      ) : null}
      <Composer value={draft} onChange={changeDraft} onSend={send} />
    </section>
  );
}
