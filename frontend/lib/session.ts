/**
 * The logged-in session as the page holds it, in memory only: who is signed in, and the
 * current grant (access token, its expiry, the Firebase custom token). The refresh token never
 * reaches the page: the same-origin proxy keeps it in an HttpOnly cookie (lib/session-proxy.ts),
 * and a reload renews the grant through that cookie.
 */

import type { LoginResult } from "./api-types";
import { ApiError } from "./errors";

/** Who is signed in: the same object for as long as the session lasts, across renewals. */
export interface Session {
  userId: string;
  username: string;
}

/** What the login and refresh answers give the page (the proxy removed `refresh_token`). */
export type GrantResult = Omit<LoginResult, "refresh_token">;

export interface Grant {
  accessToken: string;
  /** Epoch milliseconds when the access token stops working. */
  expiresAt: number;
  /** Its whole lifetime, to renew a fixed share of it early. */
  lifetimeMs: number;
  firebaseToken: string;
  userId: string;
  username: string;
}

/** Why a session ended, for the login page's notice. */
export type EndReason =
  | "expired"
  | "ended"
  | "reused"
  | "replaced"
  | "logged_out"
  | "logged_out_everywhere";

export const END_NOTICES: Record<EndReason, string | null> = {
  expired: "Your session has expired. Please log in again.",
  ended: "Your session has ended. Please log in again.",
  reused:
    "Your session was ended because its sign-in was used from two places at once. Please log in again.",
  replaced: "Someone else signed in in another tab of this browser. Please log in again.",
  logged_out: null,
  logged_out_everywhere: "You logged out on every device.",
};

export function grantFrom(result: GrantResult, now: number = Date.now()): Grant {
  const lifetimeMs = result.expires_in * 1000;
  return {
    accessToken: result.access_token,
    expiresAt: now + lifetimeMs,
    lifetimeMs,
    firebaseToken: result.firebase_token,
    userId: String(result.id),
    username: result.username,
  };
}

/** How long before expiry to renew: a third of the lifetime, at most a minute. */
function renewalLead(grant: Grant): number {
  return Math.min(60_000, grant.lifetimeMs / 3);
}

/** Epoch milliseconds when the grant should be renewed. */
export function renewAt(grant: Grant): number {
  return grant.expiresAt - renewalLead(grant);
}

/** Whether the grant is due for renewal (a call made with it now could outlive it). */
export function isDue(grant: Grant, now: number = Date.now()): boolean {
  return now >= renewAt(grant);
}

/**
 * How a failed refresh ends the session, or null when it may be tried again (the service was
 * unreachable, busy or rate limited: the session is still good).
 */
export function endReasonOfRefreshFailure(error: unknown): EndReason | null {
  if (!(error instanceof ApiError)) return null;
  if (error.status === 401) return error.code === "refresh_token_reused" ? "reused" : "ended";
  // 403 (not this site's page), 422 (a body the proxy did not write): no way to renew.
  if (error.status === 403 || error.status === 422) return "ended";
  return null;
}

/** The login page's address, naming why the session ended. */
export function loginPath(reason: EndReason | null): string {
  return reason ? `/login?ended=${reason}` : "/login";
}

export function endReasonFromPath(search: string): EndReason | null {
  const value = new URLSearchParams(search).get("ended");
  return value !== null && Object.hasOwn(END_NOTICES, value) ? (value as EndReason) : null;
}
