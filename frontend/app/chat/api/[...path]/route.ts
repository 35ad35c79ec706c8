import { CHAT_UPSTREAM, proxyRoutes } from "@/lib/proxy";

// Forwards /chat/api/** to ${UI_CHAT_SERVICE_URL}/chat/api/**, read at request time.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = proxyRoutes(CHAT_UPSTREAM);
