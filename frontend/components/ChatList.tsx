"use client";

import type { Chat } from "@/lib/api-types";
import { otherMember } from "@/lib/chats";
import MessageTime from "./MessageTime";

interface Props {
  chats: readonly Chat[];
  myId: string;
  selectedId: string | null;
  unread: ReadonlySet<string>;
  loading: boolean;
  onSelect: (chatId: string) => void;
}

function preview(chat: Chat, myId: string): string {
  const last = chat.last_message;
  if (!last) return "No messages yet";
  const text = last.body.replace(/\s+/g, " ").trim();
  return last.from_user === myId ? `You: ${text}` : text;
}

export default function ChatList({ chats, myId, selectedId, unread, loading, onSelect }: Props) {
  return (
    <nav aria-label="Chats" className="chat-list">
      <h2 className="section-title">Chats</h2>
      {chats.length === 0 ? (
        <p className="muted">{loading ? "Loading chats…" : "No chats yet. Search for someone to start one."}</p>
      ) : null}
      <ul>
        {chats.map((chat) => {
          const other = otherMember(chat, myId);
          const isUnread = unread.has(chat.chat_id);
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
                  {isUnread ? (
                    <span className="badge" data-testid="unread-badge" aria-label="new messages" role="img" />
                  ) : null}
                  {when ? <MessageTime iso={when} className="chat-time" /> : null}
                </span>
                <span className="chat-preview">{preview(chat, myId)}</span>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
