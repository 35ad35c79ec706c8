/**
 * Shapes of the auth and chat services' JSON bodies, named as the UI uses them. Every one is
 * taken from the services' OpenAPI documents (`lib/generated/*.gen.ts`, made by
 * `npm run api-types`); nothing here is written by hand but the names.
 */

import type { components as AuthComponents } from "./generated/auth.gen";
import type { components as ChatComponents } from "./generated/chat.gen";

type AuthSchemas = AuthComponents["schemas"];
type ChatSchemas = ChatComponents["schemas"];

export type User = AuthSchemas["UserPublic"];

/** The answer of POST .../login/: the access token and the Firebase custom token. */
export type LoginResult = AuthSchemas["TokenResponse"];

/**
 * A message as the chat service answers it. `time` is its version-1 TimeUUID (its position in
 * the chat); `time_iso` is ISO-8601 UTC with microseconds. The service always sends
 * `edited_at` and `revision` (null when never changed), but the document lists them as
 * optional, so a reader must take a missing one for null.
 */
export type Message = ChatSchemas["ChatMessage"];

export type LastMessage = ChatSchemas["LastMessage"];

/** A chat as POST .../chat/ and GET .../chat/{chat_id} answer it: its members only. */
export type OpenedChat = ChatSchemas["Chat"];

/** An entry of GET .../chat/: the chat with its activity, preview, read mark and unread count. */
export type ChatSummary = ChatSchemas["ChatSummary"];

/**
 * A chat as the UI holds it: an entry of the list, or a chat just opened (or named in the URL)
 * whose activity and unread count are not known until the list is fetched again.
 */
export type Chat = OpenedChat & Partial<Omit<ChatSummary, keyof OpenedChat>>;

/** The answer of POST .../read: the member's mark as the service holds it. */
export type ReadMark = ChatSchemas["ReadState"];

/** Request bodies: POST .../chat/, POST .../messaging/, PATCH .../messages/{time}, POST .../read. */
export type ChatCreateBody = ChatSchemas["ChatCreate"];
export type SendMessageBody = ChatSchemas["SendMessage"];
export type EditMessageBody = ChatSchemas["EditMessage"];
export type ReadUpToBody = ChatSchemas["ReadUpTo"];
