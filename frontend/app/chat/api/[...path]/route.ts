import { CHAT_UPSTREAM, proxyHandler } from "@/lib/proxy";

// Forwards /chat/api/** to ${UI_CHAT_SERVICE_URL}/chat/api/**, read at request time.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const handler = proxyHandler(CHAT_UPSTREAM);

export const GET = handler;
export const HEAD = handler;
export const POST = handler;
export const PUT = handler;
export const PATCH = handler;
export const DELETE = handler;
export const OPTIONS = handler;
