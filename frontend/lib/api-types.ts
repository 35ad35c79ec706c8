/** Shapes of the auth and chat services' JSON bodies. */

export interface User {
  id: number | string;
  username: string;
}

export interface LoginResult {
  access_token: string;
  token_type: string;
  expires_in: number;
  id: string;
  username: string;
  firebase_token: string;
}

export interface Message {
  message_id: string;
  chat_id: string;
  from_user: string;
  to_user: string;
  body: string;
  /** Version-1 TimeUUID: the message's position in its chat. */
  time: string;
  /** ISO-8601 UTC with microseconds, e.g. 2026-12-01T06:35:22.123456+00:00. */
  time_iso: string;
  client_message_id?: string | null;
  /** When the body was last edited (ISO-8601), null when never. */
  edited_at: string | null;
  /** A tombstone: the body is "" and the message shows as deleted. */
  deleted: boolean;
  /** TimeUUID of the latest change; null when never changed (the message's own time). */
  revision: string | null;
}

export interface LastMessage {
  message_id: string;
  from_user: string;
  body: string;
  time: string;
  time_iso: string;
  edited_at?: string | null;
  deleted?: boolean;
}

export interface Chat {
  chat_id: string;
  users_id: string[];
  users_name: string[];
  created_at: string;
  last_activity?: string | null;
  last_message?: LastMessage | null;
  /** TimeUUID of the newest message this member has read, null when none. */
  read_up_to?: string | null;
  /** The other member's messages newer than the mark, exact up to 99. */
  unread_count?: number;
  /** More than 99 unread: show "99+". */
  unread_count_capped?: boolean;
}

/** The answer of POST .../read: the member's mark as the service holds it. */
export interface ReadMark {
  chat_id: string;
  up_to: string;
  up_to_iso: string;
}
