"use client";

import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { useChatListLive } from "@/hooks/useChatListLive";
import { useOnline } from "@/hooks/useOnline";
import type { ChatApi } from "@/lib/api";
import type { Chat, Message, User } from "@/lib/api-types";
import { mergeChatLists, sortChats, withLatest } from "@/lib/chats";
import { formatApiError } from "@/lib/errors";
import { isNewerIso } from "@/lib/iso-time";
import type { LiveState } from "@/lib/live";
import { loadSeen, saveSeen } from "@/lib/local-state";
import type { Session } from "@/lib/session";
import ChatList from "./ChatList";
import Conversation from "./Conversation";
import LiveStatus from "./LiveStatus";
import PeopleSearch from "./PeopleSearch";
import type { FirebaseState } from "./SessionProvider";

/** The chat list is fetched again this often (new chats, previews of unwatched chats). */
const REFRESH_MS = 3_000;

interface Props {
  session: Session;
  api: ChatApi;
  firebaseState: FirebaseState;
  onLogOut: () => void;
}

function chatFromUrl(): string | null {
  return new URLSearchParams(window.location.search).get("chat");
}

function showChatInUrl(chatId: string | null): void {
  const url = chatId ? `/?chat=${encodeURIComponent(chatId)}` : "/";
  window.history.replaceState(null, "", url);
}

export default function ChatApp({ session, api, firebaseState, onLogOut }: Props) {
  const me = useMemo(
    () => ({ id: session.userId, username: session.username }),
    [session.userId, session.username],
  );
  const online = useOnline();
  const [chats, setChats] = useState<Chat[]>([]);
  const chatsRef = useRef(chats);
  chatsRef.current = chats;
  const [chatsLoaded, setChatsLoaded] = useState(false);
  const [listError, setListError] = useState<string | null>(null);
  const [selectedId, setSelectedId] = useState<string | null>(chatFromUrl);
  const [unread, setUnread] = useState<ReadonlySet<string>>(new Set());
  const [conversationLive, setConversationLive] = useState<LiveState | null>(null);
  const selectedRef = useRef(selectedId);
  selectedRef.current = selectedId;

  /** Records what the person has seen of the open chat; flags unseen messages elsewhere. */
  const noteMessages = useCallback(
    (chatId: string, fromOthers: { from_user: string; time_iso: string }[]) => {
      if (chatId === selectedRef.current) {
        const newest = fromOthers.reduce<string | null>(
          (acc, m) => (isNewerIso(m.time_iso, acc) ? m.time_iso : acc),
          loadSeen(session.userId, chatId),
        );
        if (newest) saveSeen(session.userId, chatId, newest);
        return;
      }
      const seen = loadSeen(session.userId, chatId);
      const unseen = fromOthers.some((m) => m.from_user !== session.userId && isNewerIso(m.time_iso, seen));
      if (unseen) {
        setUnread((current) => (current.has(chatId) ? current : new Set(current).add(chatId)));
      }
    },
    [session.userId],
  );

  const refreshChats = useCallback(async () => {
    try {
      const fresh = await api.listChats();
      setChats((known) => mergeChatLists(fresh, known));
      setListError(null);
      for (const chat of fresh) {
        if (chat.last_message) noteMessages(chat.chat_id, [chat.last_message]);
      }
    } catch (failure) {
      setListError(formatApiError(failure));
    } finally {
      setChatsLoaded(true);
    }
  }, [api, noteMessages]);

  useEffect(() => {
    void refreshChats();
    const timer = setInterval(() => {
      if (document.visibilityState === "visible") void refreshChats();
    }, REFRESH_MS);
    const onFocus = () => void refreshChats();
    window.addEventListener("focus", onFocus);
    window.addEventListener("online", onFocus);
    return () => {
      clearInterval(timer);
      window.removeEventListener("focus", onFocus);
      window.removeEventListener("online", onFocus);
    };
  }, [refreshChats]);

  /** Messages from any source: the open conversation or the list's live watchers. */
  const onMessages = useCallback(
    (chatId: string, messages: Message[]) => {
      const known = chatsRef.current.some((chat) => chat.chat_id === chatId);
      setChats((current) => {
        const index = current.findIndex((chat) => chat.chat_id === chatId);
        if (index < 0) return current;
        const chat = current[index] as Chat;
        const updated = withLatest(chat, messages);
        if (updated === chat) return current;
        const next = [...current];
        next[index] = updated;
        return sortChats(next);
      });
      noteMessages(chatId, messages);
      if (!known) void refreshChats();
    },
    [noteMessages, refreshChats],
  );

  const listLive = useChatListLive({ chats, myId: session.userId, enabled: firebaseState === "ready", onMessages });

  const select = useCallback((chatId: string | null) => {
    setSelectedId(chatId);
    showChatInUrl(chatId);
    if (chatId) {
      setUnread((current) => {
        if (!current.has(chatId)) return current;
        const next = new Set(current);
        next.delete(chatId);
        return next;
      });
    }
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

  // A chat named in the URL but not (yet) in the list: fetch it directly.
  const [directChat, setDirectChat] = useState<Chat | null>(null);
  useEffect(() => {
    if (!selectedId || selectedChat || !chatsLoaded) return;
    let cancelled = false;
    api.getChat(selectedId).then(
      (chat) => !cancelled && setDirectChat(chat),
      () => !cancelled && select(null),
    );
    return () => {
      cancelled = true;
    };
  }, [api, selectedId, selectedChat, chatsLoaded, select]);

  const openChat = selectedChat ?? (directChat?.chat_id === selectedId ? directChat : null);
  const live = openChat ? conversationLive : listLive;

  return (
    <div className={`app ${selectedId ? "show-conversation" : "show-list"}`}>
      <header className="topbar">
        <p className="brand">Chat</p>
        <p className="whoami">Signed in as {session.username}</p>
        <LiveStatus online={online} firebaseState={firebaseState} live={live} />
        <button type="button" className="secondary" onClick={onLogOut}>
          Log out
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
          unread={unread}
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
            onLiveState={setConversationLive}
            onBack={() => select(null)}
          />
        ) : (
          <p className="placeholder">
            {selectedId ? "Loading chat…" : "Choose a chat, or search for someone to start one."}
          </p>
        )}
      </main>
    </div>
  );
}
