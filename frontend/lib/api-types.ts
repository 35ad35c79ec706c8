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
}

export interface LastMessage {
  message_id: string;
  from_user: string;
  body: string;
  time: string;
  time_iso: string;
}

export interface Chat {
  chat_id: string;
  users_id: string[];
  users_name: string[];
  created_at: string;
  last_activity?: string | null;
  last_message?: LastMessage | null;
}
