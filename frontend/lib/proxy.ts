/**
 * Same-origin proxy to the backend services, shared by the /auth/api and /chat/api route
 * handlers. The upstream base URL is read from the environment on every request, so one
 * build serves any deployment.
 */

export interface Upstream {
  /** Human name used in the 503 message: "The <label> service is unavailable." */
  label: string;
  /** Environment variable holding the service's base URL. */
  envVar: string;
  /** Base URL when the variable is unset (local development). */
  fallback: string;
}

export const AUTH_UPSTREAM: Upstream = {
  label: "auth",
  envVar: "UI_AUTH_SERVICE_URL",
  fallback: "http://127.0.0.1:8000",
};

export const CHAT_UPSTREAM: Upstream = {
  label: "chat",
  envVar: "UI_CHAT_SERVICE_URL",
  fallback: "http://127.0.0.1:9000",
};

const REQUEST_HEADERS = ["content-type", "authorization", "accept"] as const;
const RESPONSE_HEADERS = ["content-type", "retry-after", "www-authenticate"] as const;
const UPSTREAM_TIMEOUT_MS = 30_000;

export function upstreamBase(upstream: Upstream, env: Record<string, string | undefined>): string {
  const configured = env[upstream.envVar]?.trim();
  return (configured || upstream.fallback).replace(/\/+$/, "");
}

/** The upstream URL for a proxied request: same path (trailing slash kept) and query. */
export function upstreamUrl(base: string, requestUrl: string): string {
  const url = new URL(requestUrl);
  return `${base}${url.pathname}${url.search}`;
}

/** Headers sent upstream: only what the services need, plus the client's address. */
export function upstreamHeaders(incoming: Headers): Headers {
  const headers = new Headers();
  for (const name of REQUEST_HEADERS) {
    const value = incoming.get(name);
    if (value !== null) headers.set(name, value);
  }
  // Next.js fills X-Forwarded-For with the socket's address when the request has none;
  // a proxy in front of this server appends the address it saw.
  const client = incoming.get("x-forwarded-for");
  if (client) headers.set("x-forwarded-for", client);
  return headers;
}

export function unavailable(upstream: Upstream): Response {
  return Response.json(
    {
      detail: `The ${upstream.label} service is unavailable.`,
      code: "service_unavailable",
    },
    { status: 503, headers: { "retry-after": "5", "cache-control": "no-store" } },
  );
}

/** A JSON body the proxy writes itself in place of the browser's (see lib/session-proxy.ts). */
export interface Replacement {
  json: unknown;
}

export async function forward(
  request: Request,
  upstream: Upstream,
  env: Record<string, string | undefined> = process.env,
  replacement?: Replacement,
): Promise<Response> {
  const target = upstreamUrl(upstreamBase(upstream, env), request.url);
  const hasBody = request.method !== "GET" && request.method !== "HEAD";
  const sent = upstreamHeaders(request.headers);
  if (replacement) sent.set("content-type", "application/json");
  let answer: Response;
  try {
    answer = await fetch(target, {
      method: request.method,
      headers: sent,
      body: replacement ? JSON.stringify(replacement.json) : hasBody ? await request.arrayBuffer() : undefined,
      redirect: "manual",
      cache: "no-store",
      signal: AbortSignal.timeout(UPSTREAM_TIMEOUT_MS),
    });
  } catch {
    return unavailable(upstream);
  }
  const headers = new Headers({ "cache-control": "no-store" });
  for (const name of RESPONSE_HEADERS) {
    const value = answer.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  const body = answer.status === 204 || answer.status === 304 ? null : await answer.arrayBuffer();
  return new Response(body, { status: answer.status, headers });
}

/** One handler for every method of a proxied prefix. */
export type Handler = (request: Request) => Promise<Response>;

/**
 * One route file's handlers: every HTTP method forwarded to `upstream`, or given to `handler`
 * (which forwards what it does not handle itself).
 */
export function proxyRoutes(
  upstream: Upstream,
  handler: Handler = (request) => forward(request, upstream),
): Record<"GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS", Handler> {
  return {
    GET: handler,
    HEAD: handler,
    POST: handler,
    PUT: handler,
    PATCH: handler,
    DELETE: handler,
    OPTIONS: handler,
  };
}
