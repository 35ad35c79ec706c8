import { AUTH_UPSTREAM, proxyHandler } from "@/lib/proxy";

// Forwards /auth/api/** to ${UI_AUTH_SERVICE_URL}/auth/api/**, read at request time.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const handler = proxyHandler(AUTH_UPSTREAM);

export const GET = handler;
export const HEAD = handler;
export const POST = handler;
export const PUT = handler;
export const PATCH = handler;
export const DELETE = handler;
export const OPTIONS = handler;
