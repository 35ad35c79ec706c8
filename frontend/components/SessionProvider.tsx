"use client";

import {
  type ReactNode,
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useState,
} from "react";
import { ChatApi, logIn as logInCall } from "@/lib/api";
import { signInToFirebase, signOutOfFirebase } from "@/lib/firebase";
import { clearDrafts } from "@/lib/local-state";
import {
  type Session,
  clearStoredSession,
  msUntilExpiry,
  readStoredSession,
  sessionFromLogin,
  storeSession,
} from "@/lib/session";

export type FirebaseState = "pending" | "ready" | "failed";
export type EndReason = "expired" | "logged_out" | null;

interface SessionContextValue {
  session: Session | null;
  api: ChatApi | null;
  firebaseState: FirebaseState;
  /** Why the last session ended, for the login page's notice. */
  endReason: EndReason;
  logIn: (username: string, password: string) => Promise<void>;
  logOut: () => void;
  expire: () => void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}

// setTimeout's longest delay; a longer-lived token is checked again when it fires.
const MAX_TIMER_MS = 2_147_483_647;

function initialState(): { session: Session | null; endReason: EndReason } {
  const stored = readStoredSession();
  if (stored.kind === "valid") return { session: stored.session, endReason: null };
  if (stored.kind === "expired") {
    clearStoredSession();
    return { session: null, endReason: "expired" };
  }
  return { session: null, endReason: null };
}

/** Rendered only in the browser (see ClientRoot), so it may read storage while rendering. */
export default function SessionProvider({ children }: { children: ReactNode }) {
  const [{ session, endReason }, setState] = useState(initialState);
  // The Firebase sign-in's outcome, for the session it was made for: "pending" for any other.
  const [firebaseSignIn, setFirebaseSignIn] = useState<{ session: Session; state: FirebaseState } | null>(null);
  const firebaseState: FirebaseState =
    session && firebaseSignIn?.session === session ? firebaseSignIn.state : "pending";

  const end = useCallback((reason: Exclude<EndReason, null>) => {
    setState((current) => {
      if (current.session) clearDrafts(current.session.userId);
      return { session: null, endReason: reason };
    });
    clearStoredSession();
    signOutOfFirebase().catch(() => undefined);
  }, []);

  const expire = useCallback(() => end("expired"), [end]);

  const logOut = useCallback(() => end("logged_out"), [end]);

  const logIn = useCallback(async (username: string, password: string) => {
    const result = await logInCall(username, password);
    const next = sessionFromLogin(result);
    storeSession(next);
    setState({ session: next, endReason: null });
  }, []);

  // End the session when the access token expires.
  useEffect(() => {
    if (!session) return;
    let timer: ReturnType<typeof setTimeout>;
    const arm = () => {
      const wait = msUntilExpiry(session);
      if (wait <= 0) {
        expire();
        return;
      }
      timer = setTimeout(arm, Math.min(wait, MAX_TIMER_MS));
    };
    arm();
    return () => clearTimeout(timer);
  }, [session, expire]);

  // Firebase sign-in for live updates; the app works without it (history and sending).
  useEffect(() => {
    if (!session) return;
    let cancelled = false;
    signInToFirebase(session.userId, session.firebaseToken).then(
      () => !cancelled && setFirebaseSignIn({ session, state: "ready" }),
      () => !cancelled && setFirebaseSignIn({ session, state: "failed" }),
    );
    return () => {
      cancelled = true;
    };
  }, [session]);

  const api = useMemo(() => (session ? new ChatApi(session.accessToken, expire) : null), [session, expire]);

  const value = useMemo<SessionContextValue>(
    () => ({ session, api, firebaseState, endReason, logIn, logOut, expire }),
    [session, api, firebaseState, endReason, logIn, logOut, expire],
  );

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
