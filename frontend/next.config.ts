import type { NextConfig } from "next";

// Nothing deployment-specific lives here: service URLs and the Firebase project are read
// from the environment at request time (see lib/proxy.ts and app/ui-config/route.ts).
const nextConfig: NextConfig = {
  // The backends' routes end in "/" (e.g. /auth/api/v1/users/); the proxy must see the
  // path exactly as the browser asked for it instead of a 308 to the slash-less form.
  skipTrailingSlashRedirect: true,
  reactStrictMode: true,
  poweredByHeader: false,
  // The container image (Dockerfile) builds with NEXT_OUTPUT=standalone: a self-contained
  // server.js with only the dependencies it uses. `next start` (make up) keeps the default.
  output: process.env.NEXT_OUTPUT === "standalone" ? "standalone" : undefined,
};

export default nextConfig;
