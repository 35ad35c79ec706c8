import { describe, expect, it } from "vitest";
import { FIXED_SECURITY_HEADERS, contentSecurityPolicy, newNonce } from "@/lib/security-headers";

function directives(policy: string): Map<string, string[]> {
  return new Map(
    policy.split(";").map((part) => {
      const [name = "", ...sources] = part.trim().split(/\s+/);
      return [name, sources];
    }),
  );
}

const EMULATORS = { firestore: "127.0.0.1:8080", auth: "127.0.0.1:9099" };

describe("content security policy", () => {
  it("runs only nonced scripts and what they load, never inline or eval in production", () => {
    const policy = directives(contentSecurityPolicy({ nonce: "abc", emulators: EMULATORS, development: false }));
    expect(policy.get("script-src")).toEqual(["'nonce-abc'", "'strict-dynamic'"]);
    expect(policy.get("style-src")).toEqual(["'self'", "'nonce-abc'"]);
    expect(policy.get("object-src")).toEqual(["'none'"]);
    expect(policy.get("base-uri")).toEqual(["'none'"]);
    expect(policy.get("default-src")).toEqual(["'self'"]);
  });

  it("loads images from this origin, and only Firestore's network test image elsewhere", () => {
    const policy = directives(contentSecurityPolicy({ nonce: "n", emulators: EMULATORS, development: false }));
    expect(policy.get("img-src")).toEqual(["'self'", "data:", "https://www.google.com/images/cleardot.gif"]);
  });

  it("is never framed", () => {
    const policy = directives(contentSecurityPolicy({ nonce: "n", emulators: EMULATORS, development: false }));
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
    expect(FIXED_SECURITY_HEADERS["x-frame-options"]).toBe("DENY");
    expect(FIXED_SECURITY_HEADERS["x-content-type-options"]).toBe("nosniff");
    expect(FIXED_SECURITY_HEADERS["referrer-policy"]).toBe("strict-origin-when-cross-origin");
  });

  it("connects to this origin and the configured emulators only", () => {
    const policy = directives(contentSecurityPolicy({ nonce: "n", emulators: EMULATORS, development: false }));
    expect(policy.get("connect-src")).toEqual(["'self'", "http://127.0.0.1:8080", "http://127.0.0.1:9099"]);
  });

  it("connects to Google's Firestore and Auth endpoints when no emulator is named", () => {
    const policy = directives(
      contentSecurityPolicy({ nonce: "n", emulators: { firestore: null, auth: null }, development: false }),
    );
    expect(policy.get("connect-src")).toEqual([
      "'self'",
      "https://firestore.googleapis.com",
      "https://identitytoolkit.googleapis.com",
      "https://securetoken.googleapis.com",
    ]);
  });

  it("allows eval and inline styles only for next dev", () => {
    const policy = directives(contentSecurityPolicy({ nonce: "n", emulators: EMULATORS, development: true }));
    expect(policy.get("script-src")).toContain("'unsafe-eval'");
    expect(policy.get("style-src")).toContain("'unsafe-inline'");
  });

  it("uses a new unguessable nonce each time", () => {
    const nonces = new Set(Array.from({ length: 100 }, newNonce));
    expect(nonces.size).toBe(100);
    for (const nonce of nonces) expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
  });
});
