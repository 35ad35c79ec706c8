import { AUTH_UPSTREAM, proxyRoutes } from "@/lib/proxy";
import { forwardAuth } from "@/lib/session-proxy";

// Forwards /auth/api/** to ${UI_AUTH_SERVICE_URL}/auth/api/**, read at request time; the
// session calls keep the refresh token in an HttpOnly cookie (lib/session-proxy.ts).
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = proxyRoutes(AUTH_UPSTREAM, (request) =>
  forwardAuth(request),
);
