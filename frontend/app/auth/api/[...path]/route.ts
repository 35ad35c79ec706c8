import { AUTH_UPSTREAM, proxyRoutes } from "@/lib/proxy";

// Forwards /auth/api/** to ${UI_AUTH_SERVICE_URL}/auth/api/**, read at request time.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = proxyRoutes(AUTH_UPSTREAM);
