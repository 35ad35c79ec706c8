"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";
import ChatApp from "@/components/ChatApp";
import { useSession } from "@/components/SessionProvider";
import { loginPath } from "@/lib/session";

export default function HomePage() {
  const { restoring, session, endReason } = useSession();
  const router = useRouter();

  useEffect(() => {
    if (!restoring && !session) router.replace(loginPath(endReason));
  }, [restoring, session, endReason, router]);

  if (!session) return <p className="boot">Loading…</p>;
  // A new person gets a new app: nothing of the previous one's state survives.
  return <ChatApp key={session.userId} />;
}
