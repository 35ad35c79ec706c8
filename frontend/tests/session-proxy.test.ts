import { type IncomingMessage, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { REFRESH_COOKIE, forwardAuth, readRefreshCookie, sessionRoute } from "@/lib/session-proxy";

/** What the auth service was asked, and what it answers: a real HTTP server on a free port. */
interface Seen {
  method: string;
  path: string;
  body: string;
  headers: IncomingMessage["headers"];
}

let server: Server;
let env: Record<string, string>;
let seen: Seen[] = [];
let answer: { status: number; body?: unknown } = { status: 200 };

const GRANT = {
  access_token: "access",
  token_type: "bearer",
  expires_in: 900,
  id: 7,
  username: "ann",
  firebase_token: "firebase",
  refresh_token: "secret refresh/token=",
  refresh_expires_in: 2_592_000,
  session_id: "s1",
};

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      seen.push({
        method: request.method ?? "",
        path: request.url ?? "",
        body: Buffer.concat(chunks).toString(),
        headers: request.headers,
      });
      response.writeHead(answer.status, { "content-type": "application/json" });
      response.end(answer.body === undefined ? undefined : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  env = { UI_AUTH_SERVICE_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen = [];
  answer = { status: 200, body: GRANT };
});

const UI = "http://ui.test";

function post(path: string, headers: Record<string, string> = {}, body = "{}"): Request {
  return new Request(`${UI}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "sec-fetch-site": "same-origin", ...headers },
    body,
  });
}

const WITH_COOKIE = { cookie: `other=1; ${REFRESH_COOKIE}=${encodeURIComponent("the refresh")}` };

describe("session routes", () => {
  it("are the four session calls, slash or not, POST only", () => {
    expect(sessionRoute("POST", `${UI}/auth/api/v1/login/`)).toBe("login");
    expect(sessionRoute("POST", `${UI}/auth/api/v1/sessions/refresh`)).toBe("refresh");
    expect(sessionRoute("POST", `${UI}/auth/api/v1/sessions/logout/`)).toBe("logout");
    expect(sessionRoute("POST", `${UI}/auth/api/v1/sessions/logout-all`)).toBe("logout-all");
    expect(sessionRoute("GET", `${UI}/auth/api/v1/sessions/refresh`)).toBeNull();
    expect(sessionRoute("POST", `${UI}/auth/api/v1/users/`)).toBeNull();
  });

  it("read the refresh cookie among others", () => {
    expect(readRefreshCookie(new Headers(WITH_COOKIE))).toBe("the refresh");
    expect(readRefreshCookie(new Headers({ cookie: "other=1" }))).toBeNull();
  });
});

describe("login", () => {
  it("moves the refresh token from the JSON into an HttpOnly, Secure, SameSite=Strict cookie", async () => {
    const response = await forwardAuth(
      post("/auth/api/v1/login/", { "content-type": "application/x-www-form-urlencoded" }, "username=ann&password=pw"),
      env,
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(body).not.toHaveProperty("refresh_token");
    expect(body).toMatchObject({ access_token: "access", session_id: "s1", refresh_expires_in: 2_592_000 });
    expect(JSON.stringify(body)).not.toContain("secret");
    expect(response.headers.get("set-cookie")).toBe(
      `${REFRESH_COOKIE}=${encodeURIComponent("secret refresh/token=")}; Path=/auth/api/v1/sessions; ` +
        "Max-Age=2592000; HttpOnly; Secure; SameSite=Strict",
    );
    expect(seen[0]?.body).toBe("username=ann&password=pw");
  });

  it("passes a refused login through and sets no cookie", async () => {
    answer = { status: 401, body: { detail: "Wrong", code: "invalid_credentials" } };
    const response = await forwardAuth(post("/auth/api/v1/login/"), env);
    expect(response.status).toBe(401);
    expect(response.headers.get("set-cookie")).toBeNull();
  });
});

describe("refresh", () => {
  it("sends the cookie's token in the JSON body, whatever the page sent", async () => {
    const response = await forwardAuth(
      post("/auth/api/v1/sessions/refresh", WITH_COOKIE, '{"refresh_token": "from the page"}'),
      env,
    );
    expect(response.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.path).toBe("/auth/api/v1/sessions/refresh");
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({ refresh_token: "the refresh" });
    expect(seen[0]?.headers["content-type"]).toBe("application/json");
    expect(seen[0]?.headers.cookie).toBeUndefined();
    expect(await response.json()).not.toHaveProperty("refresh_token");
    expect(response.headers.get("set-cookie")).toContain(`${REFRESH_COOKIE}=${encodeURIComponent(GRANT.refresh_token)};`);
  });

  it("answers 204 without asking the service when there is no cookie", async () => {
    const response = await forwardAuth(post("/auth/api/v1/sessions/refresh"), env);
    expect(response.status).toBe(204);
    expect(seen).toHaveLength(0);
  });

  it("clears the cookie when the token is refused", async () => {
    answer = { status: 401, body: { detail: "reused", code: "refresh_token_reused" } };
    const response = await forwardAuth(post("/auth/api/v1/sessions/refresh", WITH_COOKIE), env);
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: "reused", code: "refresh_token_reused" });
    expect(response.headers.get("set-cookie")).toMatch(new RegExp(`^${REFRESH_COOKIE}=; .*Max-Age=0`));
  });

  it("keeps the cookie while the service is unavailable", async () => {
    answer = { status: 503, body: { detail: "down", code: "service_unavailable" } };
    const response = await forwardAuth(post("/auth/api/v1/sessions/refresh", WITH_COOKIE), env);
    expect(response.status).toBe(503);
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  it("refuses another site's page, without asking the service", async () => {
    const response = await forwardAuth(
      post("/auth/api/v1/sessions/refresh", { ...WITH_COOKIE, "sec-fetch-site": "same-site" }),
      env,
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: "cross_site_request" });
    expect(seen).toHaveLength(0);
  });
});

describe("logout", () => {
  it("revokes the cookie's session and clears the cookie", async () => {
    answer = { status: 204 };
    const response = await forwardAuth(post("/auth/api/v1/sessions/logout", WITH_COOKIE), env);
    expect(response.status).toBe(204);
    expect(JSON.parse(seen[0]?.body ?? "")).toEqual({ refresh_token: "the refresh" });
    expect(response.headers.get("set-cookie")).toMatch(/Max-Age=0/);
  });

  it("everywhere: forwards the bearer token and clears the cookie once it worked", async () => {
    answer = { status: 204 };
    const response = await forwardAuth(
      post("/auth/api/v1/sessions/logout-all", { ...WITH_COOKIE, authorization: "Bearer access" }),
      env,
    );
    expect(response.status).toBe(204);
    expect(seen[0]?.headers.authorization).toBe("Bearer access");
    expect(response.headers.get("set-cookie")).toMatch(/Max-Age=0/);

    answer = { status: 401, body: { detail: "no", code: "invalid_token" } };
    const refused = await forwardAuth(post("/auth/api/v1/sessions/logout-all", WITH_COOKIE), env);
    expect(refused.status).toBe(401);
    expect(refused.headers.get("set-cookie")).toBeNull();
  });
});
