import { buildUiConfig } from "@/lib/ui-config";

// Built from the environment on every request: nothing deployment-specific is in the build.
export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET(): Response {
  return Response.json(buildUiConfig(process.env), {
    headers: { "cache-control": "no-store" },
  });
}
