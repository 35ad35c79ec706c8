import type { Metadata, Viewport } from "next";
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

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <ClientRoot>{children}</ClientRoot>
      </body>
    </html>
  );
}
