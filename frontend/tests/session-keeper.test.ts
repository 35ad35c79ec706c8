import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "@/lib/errors";
import type { GrantResult } from "@/lib/session";
import {
  type LockRunner,
  RETRY_MS,
  type SessionChannel,
  type SessionNews,
  SessionKeeper,
  type SessionState,
} from "@/lib/session-keeper";

const LIFETIME_S = 30;

/**
 * The auth service's refresh contract as the tabs of one browser meet it: one cookie jar, a
 * refresh token rotated at each use, and a reused token revoking the whole session.
 */
class SessionsOfOneBrowser {
  cookie: string | null = "r0";
  private current = "r0";
  private issued = 0;
  revoked = false;
  reuses = 0;
  calls = 0;
  userId = 7;

  readonly refresh = async (): Promise<GrantResult | null> => {
    this.calls += 1;
    const presented = this.cookie;
    if (presented === null) return null;
    await Promise.resolve(); // the network: another tab may run meanwhile
    if (this.revoked) throw new ApiError(401, "invalid_refresh_token", "revoked", null);
    if (presented !== this.current) {
      this.reuses += 1;
      this.revoked = true;
      throw new ApiError(401, "refresh_token_reused", "reused", null);
    }
    this.issued += 1;
    this.current = `r${this.issued}`;
    this.cookie = this.current;
    return grantResult(`access-${this.issued}`, this.userId);
  };
}

function grantResult(accessToken: string, id = 7): GrantResult {
  // Declared first, then returned: the contract's newer fields type-check with or without
  // the generated types that name them.
  const result = {
    access_token: accessToken,
    token_type: "bearer" as const,
    expires_in: LIFETIME_S,
    id: String(id),
    username: `user${id}`,
    firebase_token: `firebase-${accessToken}`,
    refresh_expires_in: 2_592_000,
    session_id: "s1",
  };
  return result;
}

/** Web Locks as the browser gives them: one holder at a time, the others queue. */
function sharedLock(): LockRunner {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

const noLock: LockRunner = (task) => task();

/** BroadcastChannel between tabs: every other tab hears a post, later. */
function channels(count: number): SessionChannel[] {
  const receivers: ((news: SessionNews) => void)[] = [];
  return Array.from({ length: count }, (_, index) => ({
    post: (news: SessionNews) => {
      receivers.forEach((receive, other) => {
        if (other !== index) queueMicrotask(() => receive(structuredClone(news)));
      });
    },
    listen: (receive: (news: SessionNews) => void) => {
      receivers[index] = receive;
    },
  }));
}

function keeper(server: SessionsOfOneBrowser, lock: LockRunner = sharedLock(), channel: SessionChannel | null = null) {
  return new SessionKeeper({ refresh: server.refresh, lock, channel });
}

async function settled(): Promise<void> {
  await vi.advanceTimersByTimeAsync(0);
}

function signedIn(state: SessionState): Extract<SessionState, { kind: "signed_in" }> {
  if (state.kind !== "signed_in") throw new Error(`not signed in: ${state.kind}`);
  return state;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe("restoring after a reload", () => {
  it("renews through the cookie into a signed-in session", async () => {
    const server = new SessionsOfOneBrowser();
    const tab = keeper(server);
    expect(tab.getState().kind).toBe("restoring");
    tab.restore();
    await settled();
    const state = signedIn(tab.getState());
    expect(state.session).toEqual({ userId: "7", username: "user7" });
    expect(state.grant.accessToken).toBe("access-1");
  });

  it("finds no session without a cookie, and says nothing about it", async () => {
    const server = new SessionsOfOneBrowser();
    server.cookie = null;
    const tab = keeper(server);
    tab.restore();
    await settled();
    expect(tab.getState()).toEqual({ kind: "signed_out", reason: null });
  });

  it("keeps trying while the auth service cannot answer", async () => {
    const server = new SessionsOfOneBrowser();
    const refresh = vi
      .fn<() => Promise<GrantResult | null>>()
      .mockRejectedValueOnce(new ApiError(503, "service_unavailable", "down", 5))
      .mockImplementation(server.refresh);
    const tab = new SessionKeeper({ refresh, lock: sharedLock(), channel: null });
    tab.restore();
    await settled();
    expect(tab.getState().kind).toBe("restoring");
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(tab.getState().kind).toBe("signed_in");
  });
});

describe("renewal", () => {
  it("renews before the access token expires, and not long before", async () => {
    const server = new SessionsOfOneBrowser();
    const tab = keeper(server);
    tab.restore();
    await settled();
    expect(server.calls).toBe(1);
    // A third of the lifetime early (at most a minute): at 20 s of 30.
    await vi.advanceTimersByTimeAsync(19_000);
    expect(server.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(server.calls).toBe(2);
    expect(signedIn(tab.getState()).grant.accessToken).toBe("access-2");
    // And again, for as long as the tab stays open.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.calls).toBe(5);
    expect(tab.getState().kind).toBe("signed_in");
  });

  it("keeps the session object across renewals, so nothing that depends on it restarts", async () => {
    const server = new SessionsOfOneBrowser();
    const tab = keeper(server);
    tab.restore();
    await settled();
    const before = signedIn(tab.getState()).session;
    await tab.renew(signedIn(tab.getState()).grant.accessToken);
    expect(signedIn(tab.getState()).session).toBe(before);
  });

  it("makes one refresh for calls that need one at once", async () => {
    const server = new SessionsOfOneBrowser();
    const tab = keeper(server);
    tab.restore();
    await settled();
    const stale = signedIn(tab.getState()).grant.accessToken;
    const renewed = await Promise.all([tab.renew(stale), tab.renew(stale), tab.renew(stale)]);
    expect(new Set(renewed.map((grant) => grant.accessToken))).toEqual(new Set(["access-2"]));
    expect(server.calls).toBe(2);
  });

  it("does not renew again for a 401 of a token already replaced", async () => {
    const server = new SessionsOfOneBrowser();
    const tab = keeper(server);
    tab.restore();
    await settled();
    await tab.renew("access-1");
    await tab.renew("access-1");
    expect(server.calls).toBe(2);
  });

  it("ends the session with the reason when the refresh token is refused", async () => {
    const server = new SessionsOfOneBrowser();
    const tab = keeper(server);
    tab.restore();
    await settled();
    server.revoked = true;
    await expect(tab.renew("access-1")).rejects.toThrow("The session has ended.");
    expect(tab.getState()).toEqual({ kind: "signed_out", reason: "ended" });
  });

  it("says so when the session was revoked for a reused refresh token", async () => {
    const server = new SessionsOfOneBrowser();
    const tab = keeper(server);
    tab.restore();
    await settled();
    server.cookie = "r0"; // an old token, as a copy of the cookie elsewhere would present
    await expect(tab.renew("access-1")).rejects.toThrow();
    expect(tab.getState()).toEqual({ kind: "signed_out", reason: "reused" });
  });

  it("stays signed in and tries again while the service is unavailable", async () => {
    const server = new SessionsOfOneBrowser();
    const refresh = vi.fn(server.refresh);
    const tab = new SessionKeeper({ refresh, lock: sharedLock(), channel: null });
    tab.restore();
    await settled();
    refresh.mockRejectedValueOnce(new ApiError(503, "service_unavailable", "down", 5));
    await expect(tab.renew("access-1")).rejects.toThrow("down");
    expect(tab.getState().kind).toBe("signed_in");
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    expect(signedIn(tab.getState()).grant.accessToken).toBe("access-2");
  });

  it("ends the session when the cookie turned out to be someone else's", async () => {
    const server = new SessionsOfOneBrowser();
    const tab = keeper(server);
    tab.restore();
    await settled();
    server.userId = 8; // another tab logged in as someone else
    await expect(tab.renew("access-1")).rejects.toThrow();
    expect(tab.getState()).toEqual({ kind: "signed_out", reason: "replaced" });
  });
});

describe("tabs of one browser", () => {
  /** Two tabs signed in to one session, sharing a lock (the given one) and a channel. */
  async function twoTabs(server: SessionsOfOneBrowser, lock: LockRunner = sharedLock()) {
    const [one, two] = channels(2);
    const first = keeper(server, lock, one);
    first.restore();
    await settled();
    const second = keeper(server, lock, two);
    second.restore();
    await settled();
    return [first, second] as const;
  }

  async function twoTabsDueAtOnce(lock: LockRunner): Promise<SessionsOfOneBrowser> {
    const server = new SessionsOfOneBrowser();
    const [first, second] = await twoTabs(server, lock);
    // Both tabs' renewals fall due in the same instant, many times over.
    for (let round = 0; round < 5; round += 1) {
      const results = await Promise.allSettled([
        first.renew(signedIn(first.getState()).grant.accessToken),
        second.renew(signedIn(second.getState()).grant.accessToken),
      ]);
      if (results.some((result) => result.status === "rejected")) break;
    }
    return server;
  }

  it("never present the same refresh token twice", async () => {
    const server = await twoTabsDueAtOnce(sharedLock());
    expect(server.reuses).toBe(0);
    expect(server.revoked).toBe(false);
  });

  it("would revoke their own session without the lock (what the lock is for)", async () => {
    const server = await twoTabsDueAtOnce(noLock);
    expect(server.reuses).toBeGreaterThan(0);
  });

  it("take the grant another tab renewed instead of refreshing again", async () => {
    const server = new SessionsOfOneBrowser();
    const [first, second] = await twoTabs(server);
    expect(server.calls).toBe(2);
    await first.renew(signedIn(first.getState()).grant.accessToken);
    await settled();
    expect(signedIn(second.getState()).grant.accessToken).toBe("access-3");
    await vi.advanceTimersByTimeAsync(21_000);
    // One renewal for both tabs when their timers fire: the second takes the first's grant.
    expect(server.calls).toBe(4);
    expect(server.reuses).toBe(0);
  });

  it("log out together", async () => {
    const server = new SessionsOfOneBrowser();
    const [first, second] = await twoTabs(server);
    first.end("logged_out_everywhere");
    await settled();
    expect(second.getState()).toEqual({ kind: "signed_out", reason: "logged_out_everywhere" });
  });
});
