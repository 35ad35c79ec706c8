/**
 * The logged-in session: kept in memory by the session provider and in sessionStorage (this
 * tab only) so a reload stays logged in until the access token expires.
 */

import type { LoginResult } from "./api-types";

export interface Session {
  accessToken: string;
  /** Epoch milliseconds when the access token stops working. */
  expiresAt: number;
  userId: string;
  username: string;
  firebaseToken: string;
}

const STORAGE_KEY = "chat.session.v1";
/** Treat the token as expired a little early, so no call races its expiry. */
const EXPIRY_MARGIN_MS = 5_000;

export function sessionFromLogin(result: LoginResult, now: number = Date.now()): Session {
  return {
    accessToken: result.access_token,
    expiresAt: now + result.expires_in * 1000,
    userId: String(result.id),
    username: result.username,
    firebaseToken: result.firebase_token,
  };
}

export function isExpired(session: Session, now: number = Date.now()): boolean {
  return now >= session.expiresAt - EXPIRY_MARGIN_MS;
}

/** Milliseconds until the session should end (never negative). */
export function msUntilExpiry(session: Session, now: number = Date.now()): number {
  return Math.max(0, session.expiresAt - EXPIRY_MARGIN_MS - now);
}

function isSession(value: unknown): value is Session {
  if (!value || typeof value !== "object") return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.accessToken === "string" &&
    typeof v.expiresAt === "number" &&
    typeof v.userId === "string" &&
    typeof v.username === "string" &&
    typeof v.firebaseToken === "string"
  );
}

export type StoredSession =
  | { kind: "none" }
  | { kind: "expired" }
  | { kind: "valid"; session: Session };

export function readStoredSession(now: number = Date.now()): StoredSession {
  let raw: string | null;
  try {
    raw = window.sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return { kind: "none" };
  }
  if (!raw) return { kind: "none" };
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!isSession(parsed)) return { kind: "none" };
    return isExpired(parsed, now) ? { kind: "expired" } : { kind: "valid", session: parsed };
  } catch {
    return { kind: "none" };
  }
}

export function storeSession(session: Session): void {
  try {
    window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(session));
  } catch {
    // Storage full or disabled: the session still lives in memory.
  }
}

export function clearStoredSession(): void {
  try {
    window.sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Nothing to clear.
  }
}
