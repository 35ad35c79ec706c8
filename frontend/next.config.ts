import type { NextConfig } from "next";

// Nothing deployment-specific lives here: service URLs and the Firebase project are read
// from the environment at request time (see lib/proxy.ts and app/ui-config/route.ts).
const nextConfig: NextConfig = {
  // The backends' routes end in "/" (e.g. /auth/api/v1/users/); the proxy must see the
  // path exactly as the browser asked for it instead of a 308 to the slash-less form.
  skipTrailingSlashRedirect: true,
  reactStrictMode: true,
  poweredByHeader: false,
  // `next dev` (Tilt's UI) serves its development resources (hot reload) only to the origins it
  // knows; the page is opened as http://127.0.0.1:3000 as often as http://localhost:3000.
  allowedDevOrigins: ["127.0.0.1"],
  // The container image (Dockerfile) builds with NEXT_OUTPUT=standalone: a self-contained
  // server.js with only the dependencies it uses. `next start` (make up) keeps the default.
  output: process.env.NEXT_OUTPUT === "standalone" ? "standalone" : undefined,
};

export default nextConfig;
