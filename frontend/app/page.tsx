"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";
import ChatApp from "@/components/ChatApp";
import { useSession } from "@/components/SessionProvider";
import { loginPath } from "@/lib/session";

export default function HomePage() {
  const { restoring, session, api, firebaseState, endReason, logOut, logOutEverywhere } = useSession();
  const router = useRouter();

  useEffect(() => {
    if (!restoring && !session) router.replace(loginPath(endReason));
  }, [restoring, session, endReason, router]);

  if (!session || !api) return <p className="boot">Loading…</p>;
  return (
    <ChatApp
      key={session.userId}
      session={session}
      api={api}
      firebaseState={firebaseState}
      onLogOut={logOut}
      onLogOutEverywhere={logOutEverywhere}
    />
  );
}
