import type { Metadata, Viewport } from "next";
import { connection } from "next/server";
import type { ReactNode } from "react";
import ClientRoot from "@/components/ClientRoot";
import "./globals.css";

export const metadata: Metadata = {
  title: "Chat",
  description: "Realtime one-to-one chat",
};

export const viewport: Viewport = {
  width: "device-width",
  initialScale: 1,
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  // Rendered per request, never prerendered: Next.js puts the request's CSP nonce (proxy.ts)
  // on its scripts only while rendering a request.
  await connection();
  return (
    <html lang="en">
      <body>
        <ClientRoot>{children}</ClientRoot>
      </body>
    </html>
  );
}
