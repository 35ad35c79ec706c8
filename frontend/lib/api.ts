/** Typed client of the auth and chat services, reached through this origin's proxy. */

import type {
  ChatCreateBody,
  ChatSummary,
  EditMessageBody,
  LoginResult,
  Message,
  OpenedChat,
  ReadMark,
  ReadUpToBody,
  SendMessageBody,
  User,
} from "./api-types";
import { ApiError, NetworkError, apiErrorFromResponse } from "./errors";

const AUTH = "/auth/api/v1";
const CHAT = "/chat/api/v1";

async function call<T>(path: string, init: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, { ...init, cache: "no-store" });
  } catch {
    throw new NetworkError();
  }
  if (!response.ok) throw await apiErrorFromResponse(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

function json(body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

export function signUp(username: string, password: string): Promise<User> {
  return call<User>(`${AUTH}/users/`, json({ username, password }));
}

export function logIn(username: string, password: string): Promise<LoginResult> {
  return call<LoginResult>(`${AUTH}/login/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username, password }).toString(),
  });
}

export interface UserSearch {
  q: string;
  limit: number;
  /** The last user id of the previous page. */
  afterId?: number;
}

export interface HistoryPage {
  quantity: number;
  /** TimeUUID: return messages strictly older than this one. */
  before?: string;
}

/**
 * The UI always names its sends, so that a retry is answered with the same message; the
 * sender comes from the token.
 */
export type SendMessage = Omit<SendMessageBody, "from_user" | "client_message_id"> & {
  client_message_id: string;
};

function messagePath(chatId: string, time: string): string {
  return `${CHAT}/chat/${encodeURIComponent(chatId)}/messages/${encodeURIComponent(time)}`;
}

/** The calls made with the access token. Any 401 ends the session through onUnauthorized. */
export class ChatApi {
  constructor(
    private readonly token: string,
    private readonly onUnauthorized: () => void,
  ) {}

  private async authed<T>(path: string, init: RequestInit = {}): Promise<T> {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${this.token}`);
    try {
      return await call<T>(path, { ...init, headers });
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.onUnauthorized();
      throw error;
    }
  }

  me(): Promise<User> {
    return this.authed<User>(`${AUTH}/users/me`);
  }

  searchUsers({ q, limit, afterId }: UserSearch): Promise<User[]> {
    const params = new URLSearchParams({ q, limit: String(limit) });
    if (afterId !== undefined) params.set("after_id", String(afterId));
    return this.authed<User[]>(`${AUTH}/users/?${params.toString()}`);
  }

  openChat(me: { id: string; username: string }, other: { id: string; username: string }): Promise<OpenedChat> {
    const body: ChatCreateBody = { users_id: [me.id, other.id], users_name: [me.username, other.username] };
    return this.authed<OpenedChat>(`${CHAT}/chat/`, json(body));
  }

  listChats(): Promise<ChatSummary[]> {
    return this.authed<ChatSummary[]>(`${CHAT}/chat/`);
  }

  getChat(chatId: string): Promise<OpenedChat> {
    return this.authed<OpenedChat>(`${CHAT}/chat/${encodeURIComponent(chatId)}`);
  }

  /** One page of history, NEWEST FIRST as the service returns it. */
  history(chatId: string, { quantity, before }: HistoryPage): Promise<Message[]> {
    const params = new URLSearchParams({ quantity: String(quantity) });
    if (before) params.set("time", before);
    return this.authed<Message[]>(
      `${CHAT}/chat/${encodeURIComponent(chatId)}/messages/?${params.toString()}`,
    );
  }

  send(message: SendMessage): Promise<Message> {
    return this.authed<Message>(`${CHAT}/messaging/`, json(message));
  }

  /** Replaces the body of one of my messages; answers its current state. */
  editMessage(chatId: string, time: string, body: string): Promise<Message> {
    const edit: EditMessageBody = { body };
    return this.authed<Message>(messagePath(chatId, time), { ...json(edit), method: "PATCH" });
  }

  /** Deletes one of my messages; answers its tombstone. */
  deleteMessage(chatId: string, time: string): Promise<Message> {
    return this.authed<Message>(messagePath(chatId, time), { method: "DELETE" });
  }

  /** Marks the chat read up to this message (the service coalesces repeated marks). */
  markRead(chatId: string, upTo: string): Promise<ReadMark> {
    const mark: ReadUpToBody = { up_to: upTo };
    return this.authed<ReadMark>(`${CHAT}/chat/${encodeURIComponent(chatId)}/read`, json(mark));
  }
}
