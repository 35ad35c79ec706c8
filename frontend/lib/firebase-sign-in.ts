/**
 * The tab's Firebase sign-in, tried again after a failure: a sign-in that failed once (the
 * auth server slow or away for a moment) must not leave live updates off until the session's
 * next renewal, minutes later. Messages still send and load meanwhile (the UI polls).
 */

import { keepTrying } from "./backoff";

export type SignInState = "ready" | "failed";

/**
 * Runs `signIn` until it succeeds: `onState` hears "failed" after each failure (tried again after `retryDelay`) and "ready"
 * once signed in. The returned function stops trying (and silences `onState`).
 */
export function keepSigningIn(signIn: () => Promise<void>, onState: (state: SignInState) => void): () => void {
  return keepTrying(
    signIn,
    () => onState("ready"),
    () => {
      onState("failed");
      return true;
    },
  );
}
