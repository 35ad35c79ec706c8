import { type NextRequest, NextResponse } from "next/server";
import {
  FIXED_SECURITY_HEADERS,
  contentSecurityPolicy,
  newNonce,
} from "@/lib/security-headers";
import { buildUiConfig } from "@/lib/ui-config";

/**
 * Next.js's request hook (the file convention formerly called middleware), for every path:
 * a fresh nonce per request, handed to the renderer in the request's own
 * Content-Security-Policy header (Next.js reads the nonce from there and puts it on its
 * scripts), and the policy and the fixed security headers on the response.
 */
export function proxy(request: NextRequest): NextResponse {
  const policy = contentSecurityPolicy({
    nonce: newNonce(),
    emulators: buildUiConfig(process.env).emulators,
    development: process.env.NODE_ENV === "development",
  });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("content-security-policy", policy);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  response.headers.set("content-security-policy", policy);
  for (const [name, value] of Object.entries(FIXED_SECURITY_HEADERS)) response.headers.set(name, value);
  return response;
}
