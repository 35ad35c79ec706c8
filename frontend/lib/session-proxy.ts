/**
 * The refresh token's only home in the browser: an `HttpOnly; Secure; SameSite=Strict` cookie
 * that this server (the same-origin proxy) sets from the login and refresh answers, whose
 * JSON the page gets without `refresh_token`. The page asks for a refresh or a logout with an
 * empty body; the proxy reads the cookie into the JSON body the auth service expects, and
 * clears the cookie when the session is over. No page script can read the token.
 *
 * Chromium keeps Secure cookies on http://127.0.0.1 and http://localhost (loopback counts as
 * a secure context), so the local stack and the browser tests run with the same cookie as
 * production over HTTPS. Served over plain HTTP from any other host, the browser drops the
 * cookie and a reload needs a new login: put TLS in front of the UI.
 */

import { AUTH_UPSTREAM, type Upstream, forward } from "./proxy";

/** `__Secure-`: the browser refuses the name unless the cookie is Secure and from a secure origin. */
export const REFRESH_COOKIE = "__Secure-chat_refresh";
/** Sent only with the calls that need it, never with the rest of /auth/api or /chat/api. */
export const REFRESH_COOKIE_PATH = "/auth/api/v1/sessions";

const AUTH_V1 = "/auth/api/v1";

type Env = Record<string, string | undefined>;

/** What a path of the auth service means for the cookie. */
export type SessionRoute = "login" | "refresh" | "logout" | "logout-all" | null;

export function sessionRoute(method: string, requestUrl: string): SessionRoute {
  if (method !== "POST") return null;
  const path = new URL(requestUrl).pathname.replace(/\/+$/, "");
  switch (path) {
    case `${AUTH_V1}/login`:
      return "login";
    case `${AUTH_V1}/sessions/refresh`:
      return "refresh";
    case `${AUTH_V1}/sessions/logout`:
      return "logout";
    case `${AUTH_V1}/sessions/logout-all`:
      return "logout-all";
    default:
      return null;
  }
}

export function readRefreshCookie(headers: Headers): string | null {
  for (const part of (headers.get("cookie") ?? "").split(";")) {
    const index = part.indexOf("=");
    if (index < 0 || part.slice(0, index).trim() !== REFRESH_COOKIE) continue;
    const value = part.slice(index + 1).trim();
    try {
      return value ? decodeURIComponent(value) : null;
    } catch {
      return null;
    }
  }
  return null;
}

export function refreshCookie(token: string, maxAgeSeconds: number): string {
  const maxAge = Math.max(0, Math.floor(maxAgeSeconds));
  return `${REFRESH_COOKIE}=${encodeURIComponent(token)}; Path=${REFRESH_COOKIE_PATH}; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Strict`;
}

export function clearedRefreshCookie(): string {
  return `${REFRESH_COOKIE}=; Path=${REFRESH_COOKIE_PATH}; Max-Age=0; HttpOnly; Secure; SameSite=Strict`;
}

function problem(status: number, code: string, detail: string, cookie?: string): Response {
  const headers = new Headers({ "cache-control": "no-store" });
  if (cookie) headers.append("set-cookie", cookie);
  return Response.json({ detail, code }, { status, headers });
}

/**
 * SameSite=Strict keeps other sites' requests from carrying the cookie, but a page on another
 * port of the same host is the same site: without this check it could rotate the token (and
 * so revoke the session when the real tab presents the old one). Browsers say where a request
 * comes from in Sec-Fetch-Site; a request without it is not a browser's cross-site request.
 */
function crossSite(request: Request): boolean {
  const site = request.headers.get("sec-fetch-site");
  return site !== null && site !== "same-origin";
}

/** The answer with `refresh_token` moved from the JSON into the cookie. */
async function grantToCookie(answer: Response): Promise<Response> {
  if (answer.status !== 200) return answer;
  let body: Record<string, unknown>;
  try {
    body = (await answer.json()) as Record<string, unknown>;
  } catch {
    return problem(502, "bad_gateway", "The auth service answered something unreadable.");
  }
  const { refresh_token: token, ...visible } = body;
  const headers = new Headers(answer.headers);
  headers.delete("content-length");
  if (typeof token === "string" && token) {
    const lifetime = typeof body.refresh_expires_in === "number" ? body.refresh_expires_in : 0;
    headers.append("set-cookie", refreshCookie(token, lifetime));
  }
  return Response.json(visible, { status: 200, headers });
}

function withCookie(answer: Response, cookie: string): Response {
  const headers = new Headers(answer.headers);
  headers.append("set-cookie", cookie);
  return new Response(answer.body, { status: answer.status, headers });
}

async function refresh(request: Request, upstream: Upstream, env: Env): Promise<Response> {
  const token = readRefreshCookie(request.headers);
  // No cookie: this browser has no session. A 204 rather than an error, because every visit
  // of a signed-out page asks (an error would be logged in the console of each).
  if (!token) return new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
  const answer = await forward(request, upstream, env, { json: { refresh_token: token } });
  // A refused token is dead for good (unknown, expired, revoked or reused): forget it.
  if (answer.status === 401) return withCookie(answer, clearedRefreshCookie());
  return grantToCookie(answer);
}

async function logout(request: Request, upstream: Upstream, env: Env): Promise<Response> {
  const token = readRefreshCookie(request.headers);
  const answer = token
    ? await forward(request, upstream, env, { json: { refresh_token: token } })
    : new Response(null, { status: 204, headers: { "cache-control": "no-store" } });
  // The browser forgets the token even when the service could not be told (it stays valid
  // there until it expires, but nothing here holds it any more).
  return withCookie(answer, clearedRefreshCookie());
}

async function logoutAll(request: Request, upstream: Upstream, env: Env): Promise<Response> {
  const answer = await forward(request, upstream, env);
  return answer.status === 204 ? withCookie(answer, clearedRefreshCookie()) : answer;
}

/** The auth routes' handler: the session calls handled as above, everything else forwarded. */
export async function forwardAuth(request: Request, env: Env = process.env): Promise<Response> {
  const route = sessionRoute(request.method, request.url);
  if (route === null) return forward(request, AUTH_UPSTREAM, env);
  // Also the login: another site's form must not sign this browser in to its own account.
  if (crossSite(request)) {
    return problem(403, "cross_site_request", "Session calls are accepted from this site's own pages only.");
  }
  if (route === "login") return grantToCookie(await forward(request, AUTH_UPSTREAM, env));
  if (route === "refresh") return refresh(request, AUTH_UPSTREAM, env);
  if (route === "logout") return logout(request, AUTH_UPSTREAM, env);
  return logoutAll(request, AUTH_UPSTREAM, env);
}
