"use client";

import type { Chat } from "@/lib/api-types";
import { otherMember, previewText, unreadOf, unreadText } from "@/lib/chats";
import MessageTime from "./MessageTime";

interface Props {
  chats: readonly Chat[];
  myId: string;
  selectedId: string | null;
  loading: boolean;
  onSelect: (chatId: string) => void;
}

export default function ChatList({ chats, myId, selectedId, loading, onSelect }: Props) {
  return (
    <nav aria-label="Chats" className="chat-list">
      <h2 className="section-title">Chats</h2>
      {chats.length === 0 ? (
        <p className="muted">{loading ? "Loading chats…" : "No chats yet. Search for someone to start one."}</p>
      ) : null}
      <ul>
        {chats.map((chat) => {
          const other = otherMember(chat, myId);
          // The open chat is being read: no badge while it is open.
          const unread = chat.chat_id === selectedId ? null : unreadOf(chat);
          const isUnread = !!unread && unread.count > 0;
          const when = chat.last_message?.time_iso ?? null;
          return (
            <li key={chat.chat_id}>
              <button
                type="button"
                className={`chat-item${chat.chat_id === selectedId ? " selected" : ""}${isUnread ? " unread" : ""}`}
                data-testid="chat-item"
                data-chat-id={chat.chat_id}
                aria-current={chat.chat_id === selectedId ? "true" : undefined}
                onClick={() => onSelect(chat.chat_id)}
              >
                <span className="chat-item-top">
                  <span className="chat-name">{other.username}</span>
                  {unread && isUnread ? (
                    <span className="badge" data-testid="unread-badge">
                      {unreadText(unread)}
                      <span className="visually-hidden"> unread</span>
                    </span>
                  ) : null}
                  {when ? <MessageTime iso={when} className="chat-time" /> : null}
                </span>
                <span className="chat-preview">{previewText(chat, myId)}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
