"use client";

import dynamic from "next/dynamic";
import type { ReactNode } from "react";

// The whole UI runs in the browser: it depends on sessionStorage, the runtime config and
// Firebase, none of which exist while the server renders.
const SessionProvider = dynamic(() => import("./SessionProvider"), {
  ssr: false,
  loading: () => <p className="boot">Loading…</p>,
});

export default function ClientRoot({ children }: { children: ReactNode }) {
  return <SessionProvider>{children}</SessionProvider>;
}
