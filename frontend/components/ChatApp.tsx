"use client";

import { useCallback, useEffect, useMemo, useState } from "react";
import { useChatListLive } from "@/hooks/useChatListLive";
import { useLatest } from "@/hooks/useLatest";
import { useOnline } from "@/hooks/useOnline";
import type { Chat, Message, User } from "@/lib/api-types";
import { keepTrying } from "@/lib/backoff";
import { mergeChatLists, sortChats, withLatest, withReadMark } from "@/lib/chats";
import { formatApiError, isTransient } from "@/lib/errors";
import type { LiveState } from "@/lib/live";
import ChatList from "./ChatList";
import Conversation from "./Conversation";
import LiveStatus from "./LiveStatus";
import PeopleSearch from "./PeopleSearch";
import { useSignedIn } from "./SessionProvider";

/** The chat list is fetched again this often (new chats, previews of unwatched chats). */
const REFRESH_MS = 3_000;

function chatFromUrl(): string | null {
  return new URLSearchParams(window.location.search).get("chat");
}

function showChatInUrl(chatId: string | null): void {
  const url = chatId ? `/?chat=${encodeURIComponent(chatId)}` : "/";
  window.history.replaceState(null, "", url);
}

/** The signed-in app; rendered only while there is a session (app/page.tsx). */
export default function ChatApp() {
  const { session, api, firebaseState, logOut: onLogOut, logOutEverywhere: onLogOutEverywhere } = useSignedIn();
  const me = useMemo(
    () => ({ id: session.userId, username: session.username }),
    [session.userId, session.username],
  );
  const online = useOnline();
  const [chats, setChats] = useState<Chat[]>([]);
  const [chatsLoaded, setChatsLoaded] = useState(false);
  const [listError, setListError] = useState<string | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(chatFromUrl);
  const [conversationLive, setConversationLive] = useState<LiveState | null>(null);
  // What the callbacks below read between renders.
  const chatsRef = useLatest(chats);
  const selectedRef = useLatest(selectedId);

  const refreshChats = useCallback(async () => {
    try {
      const fresh = await api.listChats();
      setChats((known) => mergeChatLists(fresh, known));
      setListError(null);
    } catch (failure) {
      setListError(formatApiError(failure));
    } finally {
      setChatsLoaded(true);
    }
  }, [api]);

  useEffect(() => {
    // The first fetch starts from a timer too, so the effect itself sets no state.
    const first = setTimeout(() => void refreshChats(), 0);
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void refreshChats();
    }, REFRESH_MS);
    const onFocus = () => void refreshChats();
    window.addEventListener("focus", onFocus);
    window.addEventListener("online", onFocus);
    return () => {
      clearTimeout(first);
      clearInterval(timer);
      window.removeEventListener("focus", onFocus);
      window.removeEventListener("online", onFocus);
    };
  }, [refreshChats]);

  /**
   * Messages from any source (the open conversation or the list's live watchers) move the
   * chat's preview; news in a chat that is not open fetches the list for its unread count.
   */
  const onMessages = useCallback(
    (chatId: string, messages: Message[]) => {
      const chat = chatsRef.current.find((known) => known.chat_id === chatId);
      if (!chat || (withLatest(chat, messages) !== chat && chatId !== selectedRef.current)) void refreshChats();
      setChats((current) => {
        const index = current.findIndex((known) => known.chat_id === chatId);
        if (index < 0) return current;
        const updated = withLatest(current[index] as Chat, messages);
        if (updated === current[index]) return current;
        const next = [...current];
        next[index] = updated;
        return sortChats(next);
      });
    },
    [refreshChats, chatsRef, selectedRef],
  );

  /** This tab marked a chat read: its badge clears now, ahead of the service's coalesced mark. */
  const noteRead = useCallback((chatId: string, upTo: string) => {
    setChats((current) => {
      const index = current.findIndex((known) => known.chat_id === chatId);
      const chat = current[index];
      if (!chat || withReadMark(chat, upTo) === chat) return current;
      const next = [...current];
      next[index] = withReadMark(chat, upTo);
      return next;
    });
  }, []);

  const listLive = useChatListLive({ chats, myId: session.userId, enabled: firebaseState === "ready", onMessages });

  // The open chat shows no badge (ChatList); once its messages are shown it is marked read.
  const select = useCallback((chatId: string | null) => {
    setSelectedId(chatId);
    showChatInUrl(chatId);
  }, []);

  const openWith = useCallback(
    async (user: User) => {
      const chat = await api.openChat(me, { id: String(user.id), username: user.username });
      setChats((current) =>
        current.some((known) => known.chat_id === chat.chat_id) ? current : sortChats([chat, ...current]),
      );
      select(chat.chat_id);
    },
    [api, me, select],
  );

  const selectedChat = chats.find((chat) => chat.chat_id === selectedId) ?? null;

  // A chat named in the URL but not (yet) in the list: fetch it directly. While the chat
  // service cannot answer (a reload during its restart) it is asked again with back-off and the
  // chat stays open; only a refusal (no such chat, not mine) closes it.
  const [directChat, setDirectChat] = useState<Chat | null>(null);
  useEffect(() => {
    if (!selectedId || selectedChat || !chatsLoaded) return;
    return keepTrying(
      () => api.getChat(selectedId),
      setDirectChat,
      (failure) => {
        if (isTransient(failure)) return true;
        select(null);
        return false;
      },
    );
  }, [api, selectedId, selectedChat, chatsLoaded, select]);

  const openChat = selectedChat ?? (directChat?.chat_id === selectedId ? directChat : null);
  const live = openChat ? conversationLive : listLive;

  return (
    <div className={`app ${selectedId ? "show-conversation" : "show-list"}`}>
      <header className="topbar">
        <p className="brand">Chat</p>
        <p className="whoami">Signed in as {session.username}</p>
        <LiveStatus online={online} firebaseState={firebaseState} live={live} />
        <button type="button" className="secondary" onClick={() => void onLogOut()}>
          Log out
        </button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            onLogOutEverywhere().catch((error: unknown) => setListError(formatApiError(error, "general")));
          }}
        >
          Log out everywhere
        </button>
      </header>
      <aside className="sidebar">
        <PeopleSearch api={api} myId={session.userId} onOpen={openWith} />
        {listError ? (
          <p role="alert" className="error">
            {listError}
          </p>
        ) : null}
        <ChatList
          chats={chats}
          myId={session.userId}
          selectedId={selectedId}
          loading={!chatsLoaded}
          onSelect={select}
        />
      </aside>
      <main className="main">
        {openChat ? (
          <Conversation
            key={openChat.chat_id}
            api={api}
            me={me}
            chat={openChat}
            firebaseState={firebaseState}
            onMessages={onMessages}
            onRead={noteRead}
            onLiveState={setConversationLive}
            onBack={() => select(null)}
          />
        ) : selectedId ? (
          // On a phone the list (and its error) is hidden behind the chat being loaded: say why
          // it waits, and offer the way back.
          <div className="placeholder">
            <p>Loading chat…</p>
            {listError ? <p className="error only-narrow">{listError}</p> : null}
            <button type="button" className="secondary back" onClick={() => select(null)}>
              <span aria-hidden="true">←</span> Back to chats
            </button>
          </div>
        ) : (
          <p className="placeholder">Choose a chat, or search for someone to start one.</p>
        )}
      </main>
    </div>
  );
}
