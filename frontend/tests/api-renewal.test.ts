import { afterEach, describe, expect, it, vi } from "vitest";
import { type AccessTokens, ChatApi } from "@/lib/api";
import { ApiError } from "@/lib/errors";

/** The chat service as the page's fetch meets it: accepts only the tokens it is told to. */
function serviceAccepting(valid: Set<string>): string[] {
  const presented: string[] = [];
  vi.stubGlobal("fetch", (_path: string, init: RequestInit) => {
    const token = new Headers(init.headers).get("authorization")?.replace("Bearer ", "") ?? "";
    presented.push(token);
    const ok = valid.has(token);
    return Promise.resolve(
      Response.json(ok ? [] : { detail: "expired", code: "invalid_token" }, { status: ok ? 200 : 401 }),
    );
  });
  return presented;
}

function tokens(current: string, renewed: string): AccessTokens & { renewals: string[] } {
  const renewals: string[] = [];
  return {
    renewals,
    accessToken: () => Promise.resolve(current),
    renew: (stale) => {
      renewals.push(stale);
      return Promise.resolve({ accessToken: renewed });
    },
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("a call answered 401", () => {
  it("renews the token once and is made again", async () => {
    const presented = serviceAccepting(new Set(["new"]));
    const source = tokens("old", "new");
    const ended = vi.fn();
    await expect(new ChatApi(source, ended).listChats()).resolves.toEqual([]);
    expect(presented).toEqual(["old", "new"]);
    expect(source.renewals).toEqual(["old"]);
    expect(ended).not.toHaveBeenCalled();
  });

  it("ends the session when the renewed token is refused too", async () => {
    const presented = serviceAccepting(new Set());
    const ended = vi.fn();
    const failure = new ChatApi(tokens("old", "new"), ended).listChats();
    await expect(failure).rejects.toBeInstanceOf(ApiError);
    expect(presented).toEqual(["old", "new"]);
    expect(ended).toHaveBeenCalledOnce();
  });

  it("is not renewed for other errors", async () => {
    vi.stubGlobal("fetch", () => Promise.resolve(Response.json({ detail: "busy", code: "rate_limited" }, { status: 429 })));
    const source = tokens("old", "new");
    await expect(new ChatApi(source, vi.fn()).listChats()).rejects.toMatchObject({ status: 429 });
    expect(source.renewals).toEqual([]);
  });
});
