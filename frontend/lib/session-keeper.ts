/**
 * Keeps a tab's session alive, in memory: restores it after a reload through the refresh
 * cookie, renews the access token before it expires and when a call is answered 401, and
 * ends it when a renewal is refused. React reads it as an external store.
 *
 * Every tab shares the one refresh cookie, and the auth service rotates the refresh token on
 * each use and revokes the whole session when an old one comes back. So two tabs must never
 * refresh at once: a renewal runs under a Web Lock (`navigator.locks`) held by one tab at a
 * time, and a tab that gets the lock after another tab renewed takes the grant that tab
 * broadcast instead of refreshing again. Without Web Locks (a page outside a secure context)
 * renewals are single-flight within the tab only.
 */

import {
  type EndReason,
  type Grant,
  type GrantResult,
  type Session,
  endReasonOfRefreshFailure,
  grantFrom,
  isDue,
  renewAt,
} from "./session";

export type SessionState =
  | { kind: "restoring" }
  | { kind: "signed_in"; session: Session; grant: Grant }
  | { kind: "signed_out"; reason: EndReason | null };

/** Runs `task` while holding the browser-wide renewal lock. */
export type LockRunner = <T>(task: () => Promise<T>) => Promise<T>;

/** What the tabs tell each other. */
export type SessionNews =
  | { kind: "grant"; grant: Grant }
  | { kind: "logged_out"; userId: string; everywhere: boolean };

export interface SessionChannel {
  post(news: SessionNews): void;
  listen(receive: (news: SessionNews) => void): void;
}

export interface KeeperOptions {
  /** POST .../sessions/refresh through the proxy (the cookie goes along); null: no cookie. */
  refresh: () => Promise<GrantResult | null>;
  lock: LockRunner;
  channel: SessionChannel | null;
  now?: () => number;
}

/** The session is over (or was never there); the call that needed it cannot be made. */
export class SessionEnded extends Error {
  constructor(readonly reason: EndReason | null) {
    super("The session has ended.");
    this.name = "SessionEnded";
  }
}

/** The browser holds no refresh cookie (never logged in, logged out, or it expired). */
class NoSessionCookie extends Error {}

/** The wait before trying again when the auth service could not answer a renewal. */
export const RETRY_MS = 5_000;
// setTimeout's longest delay; a longer wait is armed again when it fires.
const MAX_TIMER_MS = 2_147_483_647;

export class SessionKeeper {
  private state: SessionState = { kind: "restoring" };
  private readonly listeners = new Set<() => void>();
  private renewal: Promise<Grant> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** Moves on at every login and end, so a renewal that outlived its session is dropped. */
  private epoch = 0;
  private readonly now: () => number;

  constructor(private readonly options: KeeperOptions) {
    this.now = options.now ?? Date.now;
    options.channel?.listen((news) => this.receive(news));
  }

  // React's useSyncExternalStore wants these as stable functions.
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getState = (): SessionState => this.state;

  private get grant(): Grant | null {
    return this.state.kind === "signed_in" ? this.state.grant : null;
  }

  /** After a page load: renews through the cookie, or finds there is no session. */
  restore(): void {
    if (this.state.kind !== "restoring" || this.renewal) return;
    this.renew(null).catch((error: unknown) => {
      if (this.state.kind === "restoring" && !(error instanceof SessionEnded)) {
        this.schedule(this.now() + RETRY_MS); // the auth service is unreachable: try again
      }
    });
  }

  /** A login made in this tab: its grant becomes the session, and the other tabs hear of it. */
  logIn(grant: Grant): void {
    this.epoch += 1;
    this.use(grant);
    this.options.channel?.post({ kind: "grant", grant });
  }

  /** An access token to call with now: the current one, or a renewed one when it is due. */
  async accessToken(): Promise<string> {
    const grant = this.grant;
    if (grant && !isDue(grant, this.now())) return grant.accessToken;
    return (await this.renew(grant?.accessToken ?? null)).accessToken;
  }

  /**
   * A grant newer than the one holding `stale` (null: none yet, as after a reload). Calls
   * made at once share one renewal; one that another tab already made is not repeated.
   */
  renew(stale: string | null): Promise<Grant> {
    if (this.state.kind === "signed_out") return Promise.reject(new SessionEnded(this.state.reason));
    const fresh = this.freshGrant(stale);
    if (fresh) return Promise.resolve(fresh);
    if (!this.renewal) {
      const epoch = this.epoch;
      this.renewal = this.options
        .lock(() => this.refreshUnlessRenewed(stale, epoch))
        .finally(() => {
          this.renewal = null;
        });
    }
    return this.renewal;
  }

  /** Ends the session in this tab; a logout is told to the other tabs too. */
  end(reason: EndReason | null): void {
    const userId = this.grant?.userId;
    this.epoch += 1;
    this.clearTimer();
    this.set({ kind: "signed_out", reason });
    if (userId && (reason === "logged_out" || reason === "logged_out_everywhere")) {
      this.options.channel?.post({ kind: "logged_out", userId, everywhere: reason === "logged_out_everywhere" });
    }
  }

  private freshGrant(stale: string | null): Grant | null {
    const held = this.grant;
    return held && held.accessToken !== stale && !isDue(held, this.now()) ? held : null;
  }

  private async refreshUnlessRenewed(stale: string | null, epoch: number): Promise<Grant> {
    // While this tab waited for the lock, another tab may have renewed and broadcast it.
    const fresh = this.freshGrant(stale);
    if (fresh) return fresh;
    if (epoch !== this.epoch || this.state.kind === "signed_out") throw new SessionEnded(null);
    let result: GrantResult | null;
    try {
      result = await this.options.refresh();
    } catch (error) {
      if (epoch !== this.epoch) throw new SessionEnded(null);
      return this.refused(error);
    }
    if (epoch !== this.epoch) throw new SessionEnded(null);
    if (result === null) return this.refused(new NoSessionCookie());
    const grant = grantFrom(result, this.now());
    const held = this.grant;
    if (held && grant.userId !== held.userId) {
      // The cookie now belongs to someone else's login in another tab.
      this.end("replaced");
      throw new SessionEnded("replaced");
    }
    this.use(grant);
    this.options.channel?.post({ kind: "grant", grant });
    return grant;
  }

  private refused(error: unknown): never {
    const reason = error instanceof NoSessionCookie ? "ended" : endReasonOfRefreshFailure(error);
    if (reason === null) {
      // Unreachable, busy or rate limited: the session is still good; try again soon.
      if (this.grant) this.schedule(this.now() + RETRY_MS);
      throw error;
    }
    // After a reload, finding no session is no news; a refused token of a live session is.
    const restoring = this.state.kind === "restoring";
    const shown = restoring && reason === "ended" ? null : reason;
    this.end(shown);
    throw new SessionEnded(shown);
  }

  private receive(news: SessionNews): void {
    const held = this.grant;
    if (!held) return;
    if (news.kind === "logged_out") {
      if (news.userId === held.userId) {
        this.epoch += 1;
        this.clearTimer();
        this.set({ kind: "signed_out", reason: news.everywhere ? "logged_out_everywhere" : "logged_out" });
      }
      return;
    }
    // Only a newer grant of the same person; someone else's login shows at the next renewal.
    const newer = news.grant.accessToken !== held.accessToken && news.grant.expiresAt >= held.expiresAt;
    if (newer && news.grant.userId === held.userId) this.use(news.grant);
  }

  private use(grant: Grant): void {
    const current = this.state;
    const sameUser = current.kind === "signed_in" && current.session.userId === grant.userId;
    const session = sameUser ? current.session : { userId: grant.userId, username: grant.username };
    this.set({ kind: "signed_in", session, grant });
    this.schedule(renewAt(grant));
  }

  private set(state: SessionState): void {
    this.state = state;
    for (const listener of this.listeners) listener();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(at: number): void {
    this.clearTimer();
    const wait = Math.max(0, at - this.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.now() < at) {
        this.schedule(at);
        return;
      }
      if (this.state.kind === "restoring") this.restore();
      else this.renew(this.grant?.accessToken ?? null).catch(() => undefined);
    }, Math.min(wait, MAX_TIMER_MS));
  }
}

/** The browser-wide lock, or none (outside a secure context there are no Web Locks). */
export function browserLock(name: string): LockRunner {
  return <T>(task: () => Promise<T>): Promise<T> => {
    const locks = typeof navigator === "undefined" ? undefined : navigator.locks;
    if (!locks) return task();
    return locks.request(name, task) as Promise<T>;
  };
}

/** The tabs' channel over BroadcastChannel, or null where there is none. */
export function browserChannel(name: string): SessionChannel | null {
  if (typeof BroadcastChannel === "undefined") return null;
  const channel = new BroadcastChannel(name);
  return {
    post: (news) => channel.postMessage(news),
    listen: (receive) => channel.addEventListener("message", (event: MessageEvent<SessionNews>) => receive(event.data)),
  };
}
