"use client";

import {
  type ReactNode,
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
  useSyncExternalStore,
} from "react";
import { ChatApi, logIn as logInCall, logOutSession, refreshSession } from "@/lib/api";
import { signInToFirebase, signOutOfFirebase } from "@/lib/firebase";
import { keepSigningIn } from "@/lib/firebase-sign-in";
import { clearDrafts } from "@/lib/local-state";
import { type EndReason, type Session, grantFrom } from "@/lib/session";
import { SessionKeeper, browserChannel, browserLock } from "@/lib/session-keeper";

export type FirebaseState = "pending" | "ready" | "failed";

interface SessionContextValue {
  /** True until the page knows whether the refresh cookie holds a session. */
  restoring: boolean;
  session: Session | null;
  api: ChatApi | null;
  firebaseState: FirebaseState;
  /** Why the last session ended, for the login page's notice. */
  endReason: EndReason | null;
  logIn: (username: string, password: string) => Promise<void>;
  logOut: () => Promise<void>;
  logOutEverywhere: () => Promise<void>;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}

export interface SignedIn {
  session: Session;
  api: ChatApi;
  firebaseState: FirebaseState;
  logOut: () => Promise<void>;
  logOutEverywhere: () => Promise<void>;
}

/** The session's values, for components rendered only while someone is signed in. */
export function useSignedIn(): SignedIn {
  const { session, api, firebaseState, logOut, logOutEverywhere } = useSession();
  if (!session || !api) throw new Error("useSignedIn without a session");
  return { session, api, firebaseState, logOut, logOutEverywhere };
}

// One keeper per tab, for the tab's whole life: its timers and the tabs' channel must not
// be duplicated by a remount.
let tabKeeper: SessionKeeper | null = null;

function keeperOfThisTab(): SessionKeeper {
  tabKeeper ??= new SessionKeeper({
    refresh: refreshSession,
    lock: browserLock("chat.session.renewal"),
    channel: browserChannel("chat.session"),
  });
  return tabKeeper;
}

/** Rendered only in the browser (see ClientRoot). */
export default function SessionProvider({ children }: { children: ReactNode }) {
  const [keeper] = useState(keeperOfThisTab);
  const state = useSyncExternalStore(keeper.subscribe, keeper.getState);
  const session = state.kind === "signed_in" ? state.session : null;
  const firebaseToken = state.kind === "signed_in" ? state.grant.firebaseToken : null;
  const endReason = state.kind === "signed_out" ? state.reason : null;
  // The Firebase sign-in's outcome, for the session it was made for: "pending" for any other.
  const [firebaseSignIn, setFirebaseSignIn] = useState<{ session: Session; state: FirebaseState } | null>(null);
  const firebaseState: FirebaseState =
    session && firebaseSignIn?.session === session ? firebaseSignIn.state : "pending";

  useEffect(() => keeper.restore(), [keeper]);

  // When a session ends, however it ends: its drafts and its Firebase user go with it.
  useEffect(() => {
    let previous = keeper.getState();
    return keeper.subscribe(() => {
      const next = keeper.getState();
      if (previous.kind === "signed_in" && next.kind !== "signed_in") {
        clearDrafts(previous.session.userId);
        signOutOfFirebase().catch(() => undefined);
      }
      previous = next;
    });
  }, [keeper]);

  // Firebase sign-in for live updates, kept in step with the session: each renewal brings a
  // new custom token, used when Firebase has no user of this session (after a reload, after a
  // failed sign-in). Signing in again as the same user would only restart Firestore's streams.
  // A failed sign-in is tried again with back-off (`keepSigningIn`), not left until the next
  // renewal.
  useEffect(() => {
    if (!session || firebaseToken === null) return;
    return keepSigningIn(
      () => signInToFirebase(session.userId, firebaseToken),
      (state) => setFirebaseSignIn({ session, state }),
    );
  }, [session, firebaseToken]);

  const logIn = useCallback(
    async (username: string, password: string) => {
      keeper.logIn(grantFrom(await logInCall(username, password)));
    },
    [keeper],
  );

  const logOut = useCallback(async () => {
    try {
      await logOutSession();
    } finally {
      keeper.end("logged_out");
    }
  }, [keeper]);

  const api = useMemo(
    () =>
      session
        ? new ChatApi(
            { accessToken: () => keeper.accessToken(), renew: (stale) => keeper.renew(stale) },
            () => keeper.end("expired"),
          )
        : null,
    [session, keeper],
  );

  const logOutEverywhere = useCallback(async () => {
    if (!api) return;
    await api.logOutEverywhere();
    keeper.end("logged_out_everywhere");
  }, [api, keeper]);

  const value = useMemo<SessionContextValue>(
    () => ({
      restoring: state.kind === "restoring",
      session,
      api,
      firebaseState,
      endReason,
      logIn,
      logOut,
      logOutEverywhere,
    }),
    [state.kind, session, api, firebaseState, endReason, logIn, logOut, logOutEverywhere],
  );

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
