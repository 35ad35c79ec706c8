import { describe, expect, it } from "vitest";
import { AUTH_UPSTREAM, CHAT_UPSTREAM, upstreamBase, upstreamHeaders, upstreamUrl } from "@/lib/proxy";
import { buildUiConfig } from "@/lib/ui-config";

describe("runtime config", () => {
  it("has development defaults", () => {
    expect(buildUiConfig({})).toEqual({
      firebase: { apiKey: "demo-api-key", authDomain: "", projectId: "demo-chat", appId: "" },
      emulators: { firestore: null, auth: null },
    });
  });

  it("takes every value from the environment", () => {
    const config = buildUiConfig({
      UI_FIREBASE_API_KEY: "key",
      UI_FIREBASE_AUTH_DOMAIN: "example.firebaseapp.com",
      UI_FIREBASE_PROJECT_ID: "prod",
      UI_FIREBASE_APP_ID: "1:2:web:3",
      UI_FIRESTORE_EMULATOR_HOST: "127.0.0.1:8080",
      UI_FIREBASE_AUTH_EMULATOR_HOST: "127.0.0.1:9099",
    });
    expect(config.firebase).toEqual({
      apiKey: "key",
      authDomain: "example.firebaseapp.com",
      projectId: "prod",
      appId: "1:2:web:3",
    });
    expect(config.emulators).toEqual({ firestore: "127.0.0.1:8080", auth: "127.0.0.1:9099" });
  });
});

describe("proxy", () => {
  it("uses the configured service URL or the local default", () => {
    expect(upstreamBase(AUTH_UPSTREAM, {})).toBe("http://127.0.0.1:8000");
    expect(upstreamBase(CHAT_UPSTREAM, {})).toBe("http://127.0.0.1:9000");
    expect(upstreamBase(CHAT_UPSTREAM, { UI_CHAT_SERVICE_URL: "http://chat:9000/" })).toBe("http://chat:9000");
  });

  it("keeps the path, its trailing slash and the query", () => {
    expect(upstreamUrl("http://chat:9000", "http://ui/chat/api/v1/chat/abc/messages/?quantity=30&time=x")).toBe(
      "http://chat:9000/chat/api/v1/chat/abc/messages/?quantity=30&time=x",
    );
    expect(upstreamUrl("http://auth:8000", "http://ui/auth/api/v1/users/")).toBe("http://auth:8000/auth/api/v1/users/");
  });

  it("forwards only the needed headers and the client address", () => {
    const headers = upstreamHeaders(
      new Headers({
        authorization: "Bearer t",
        "content-type": "application/json",
        cookie: "secret=1",
        "x-forwarded-for": "10.1.2.3",
      }),
    );
    expect(headers.get("authorization")).toBe("Bearer t");
    expect(headers.get("content-type")).toBe("application/json");
    expect(headers.get("cookie")).toBeNull();
    expect(headers.get("x-forwarded-for")).toBe("10.1.2.3");
  });
});

describe("proxy to an unreachable service", () => {
  it("answers 503 JSON with Retry-After", async () => {
    const { forward } = await import("@/lib/proxy");
    const request = new Request("http://ui.test/chat/api/v1/chat/", { method: "GET" });
    // Port 9 (discard) on loopback: nothing listens there, so the connection is refused.
    const response = await forward(request, CHAT_UPSTREAM, { UI_CHAT_SERVICE_URL: "http://127.0.0.1:9" });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(await response.json()).toEqual({
      detail: "The chat service is unavailable.",
      code: "service_unavailable",
    });
  });
});
