/**
 * The Firebase app of this browser tab, set up once from GET /ui-config (runtime config,
 * nothing baked into the build), with the emulators when the config names them.
 */

import { type FirebaseApp, getApps, initializeApp } from "firebase/app";
import {
  type Auth,
  connectAuthEmulator,
  inMemoryPersistence,
  initializeAuth,
  signInWithCustomToken,
  signOut,
} from "firebase/auth";
import { type Firestore, connectFirestoreEmulator, getFirestore, setLogLevel } from "firebase/firestore";
import type { UiConfig } from "./ui-config";

export interface FirebaseHandles {
  app: FirebaseApp;
  auth: Auth;
  db: Firestore;
}

let handles: Promise<FirebaseHandles> | null = null;

function splitHostPort(value: string): { host: string; port: number } {
  const index = value.lastIndexOf(":");
  return { host: value.slice(0, index), port: Number.parseInt(value.slice(index + 1), 10) };
}

async function setUp(): Promise<FirebaseHandles> {
  const response = await fetch("/ui-config", { cache: "no-store" });
  if (!response.ok) throw new Error(`ui-config: HTTP ${response.status}`);
  const config = (await response.json()) as UiConfig;
  const app = getApps()[0] ?? initializeApp(config.firebase);
  // In memory only, like the access token: no token of any kind in the page's storage. After a
  // reload the tab signs in again with the custom token of the renewed session.
  const auth = initializeAuth(app, { persistence: inMemoryPersistence });
  const db = getFirestore(app);
  // A dropped connection is shown in the UI's live status; no console warning per retry.
  setLogLevel("error");
  if (config.emulators.auth) {
    connectAuthEmulator(auth, `http://${config.emulators.auth}`, { disableWarnings: true });
  }
  if (config.emulators.firestore) {
    const { host, port } = splitHostPort(config.emulators.firestore);
    connectFirestoreEmulator(db, host, port);
  }
  return { app, auth, db };
}

export function firebase(): Promise<FirebaseHandles> {
  if (!handles) {
    handles = setUp();
    handles.catch(() => {
      handles = null; // try again next time
    });
  }
  return handles;
}

/**
 * Starts listeners once Firebase is loaded; the returned function stops them, or keeps them
 * from starting when Firebase is still loading (an effect's cleanup). `onUnavailable` runs if
 * Firebase cannot be loaded and nothing was stopped meanwhile.
 */
export function listenWhenLoaded(start: (db: Firestore) => () => void, onUnavailable?: () => void): () => void {
  let stop: (() => void) | null = null;
  let cancelled = false;
  firebase().then(
    ({ db }) => {
      if (!cancelled) stop = start(db);
    },
    () => {
      if (!cancelled) onUnavailable?.();
    },
  );
  return () => {
    cancelled = true;
    stop?.();
  };
}

/** Signs this tab in to Firebase as the user, unless it is signed in as that user already. */
export async function signInToFirebase(userId: string, customToken: string): Promise<void> {
  const { auth } = await firebase();
  await auth.authStateReady();
  if (auth.currentUser?.uid === userId) return;
  await signInWithCustomToken(auth, customToken);
}

export async function signOutOfFirebase(): Promise<void> {
  const { auth } = await firebase();
  await signOut(auth);
}
