/** Typed client of the auth and chat services, reached through this origin's proxy. */

import type {
  ChatCreateBody,
  ChatSummary,
  EditMessageBody,
  Message,
  OpenedChat,
  ReadMark,
  ReadUpToBody,
  SendMessageBody,
  User,
} from "./api-types";
import { ApiError, NetworkError, apiErrorFromResponse } from "./errors";
import type { GrantResult } from "./session";

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

/** Logs in; the proxy keeps the refresh token in its cookie and answers the rest. */
export function logIn(username: string, password: string): Promise<GrantResult> {
  return call<GrantResult>(`${AUTH}/login/`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ username, password }).toString(),
  });
}

// The refresh token is the proxy's cookie: the page sends an empty object, never the token.

/**
 * A new grant for the session in the cookie (and a new refresh token in the cookie), or null
 * when this browser has no session cookie (the proxy answers 204).
 */
export async function refreshSession(): Promise<GrantResult | null> {
  return (await call<GrantResult | undefined>(`${AUTH}/sessions/refresh`, json({}))) ?? null;
}

/** Ends the session in the cookie, on the service and in this browser. */
export function logOutSession(): Promise<void> {
  return call<void>(`${AUTH}/sessions/logout`, json({}));
}

/** Where the calls made with the access token get it, and a newer one after a 401. */
export interface AccessTokens {
  accessToken(): Promise<string>;
  renew(stale: string): Promise<{ accessToken: string }>;
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

function isUnauthorized(error: unknown): boolean {
  return error instanceof ApiError && error.status === 401;
}

/**
 * The calls made with the access token. A 401 renews the token once and makes the call again;
 * a second 401 ends the session through onUnauthorized.
 */
export class ChatApi {
  constructor(
    private readonly tokens: AccessTokens,
    private readonly onUnauthorized: () => void,
  ) {}

  private async authed<T>(path: string, init: RequestInit = {}): Promise<T> {
    const token = await this.tokens.accessToken();
    try {
      return await this.callWith<T>(token, path, init);
    } catch (error) {
      if (!isUnauthorized(error)) throw error;
    }
    const renewed = await this.tokens.renew(token);
    try {
      return await this.callWith<T>(renewed.accessToken, path, init);
    } catch (error) {
      if (isUnauthorized(error)) this.onUnauthorized();
      throw error;
    }
  }

  private callWith<T>(token: string, path: string, init: RequestInit): Promise<T> {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${token}`);
    return call<T>(path, { ...init, headers });
  }

  /** Ends every session of mine, on every device (this one's cookie is cleared too). */
  logOutEverywhere(): Promise<void> {
    return this.authed<void>(`${AUTH}/sessions/logout-all`, { method: "POST" });
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
