/**
 * The headers every UI response carries (set by `proxy.ts`, Next.js's request hook): a
 * Content-Security-Policy that allows only what the app uses, and the framing, referrer and
 * sniffing rules. Pure, so the policy is unit-tested as text.
 */

import type { UiConfig } from "./ui-config";

export interface PolicyOptions {
  /** A fresh random value per request; Next.js puts it on every script it renders. */
  nonce: string;
  /** The Firebase endpoints the browser talks to (emulators or the real services). */
  emulators: UiConfig["emulators"];
  /** `next dev` evaluates code for its error overlay and injects unnonced styles. */
  development: boolean;
}

// The Google endpoints the Firebase SDK calls when no emulator is named: Firestore's
// WebChannel, and Firebase Auth's custom-token sign-in and ID-token refresh.
const FIRESTORE_SERVICE = ["https://firestore.googleapis.com"];
const AUTH_SERVICE = ["https://identitytoolkit.googleapis.com", "https://securetoken.googleapis.com"];

const WEBCHANNEL_NETWORK_TEST = "https://www.google.com/images/cleardot.gif";

function firebaseSources(emulators: UiConfig["emulators"]): string[] {
  const firestore = emulators.firestore ? [`http://${emulators.firestore}`] : FIRESTORE_SERVICE;
  const auth = emulators.auth ? [`http://${emulators.auth}`] : AUTH_SERVICE;
  return [...firestore, ...auth];
}

export function contentSecurityPolicy({ nonce, emulators, development }: PolicyOptions): string {
  // 'strict-dynamic': the nonced framework scripts may load the app's chunks; nothing else
  // runs, whatever host it comes from. Styles come as files from this origin (React sets
  // `style` through the DOM, which CSP does not govern); only `next dev` needs inline ones.
  const scripts = [`'nonce-${nonce}'`, "'strict-dynamic'", ...(development ? ["'unsafe-eval'"] : [])];
  const styles = development ? ["'self'", "'unsafe-inline'"] : ["'self'", `'nonce-${nonce}'`];
  const directives: [string, string[]][] = [
    ["default-src", ["'self'"]],
    ["script-src", scripts],
    ["style-src", styles],
    // Firestore's WebChannel loads this image to tell a dead network from a dead server when
    // its requests fail (seen in the browser tests); the exact file, nothing else of the host.
    ["img-src", ["'self'", "data:", WEBCHANNEL_NETWORK_TEST]],
    ["font-src", ["'self'"]],
    ["connect-src", ["'self'", ...firebaseSources(emulators)]],
    ["frame-src", ["'none'"]],
    ["worker-src", ["'none'"]],
    ["manifest-src", ["'self'"]],
    ["object-src", ["'none'"]],
    ["base-uri", ["'none'"]],
    ["form-action", ["'self'"]],
    ["frame-ancestors", ["'none'"]],
  ];
  return directives.map(([name, sources]) => `${name} ${sources.join(" ")}`).join("; ");
}

/** The headers besides the policy: never framed, no referrer to other origins, no sniffing. */
export const FIXED_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "x-frame-options": "DENY",
  "referrer-policy": "strict-origin-when-cross-origin",
  "x-content-type-options": "nosniff",
};

/** 128 random bits, base64: unguessable and valid in a CSP source expression. */
export function newNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}
