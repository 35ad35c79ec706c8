"use client";

import { useRouter } from "next/navigation";
import { useEffect } from "react";
import ChatApp from "@/components/ChatApp";
import { useSession } from "@/components/SessionProvider";

export default function HomePage() {
  const { session, api, firebaseState, endReason, logOut } = useSession();
  const router = useRouter();

  useEffect(() => {
    if (!session) router.replace(endReason === "expired" ? "/login?expired=1" : "/login");
  }, [session, endReason, router]);

  if (!session || !api) return <p className="boot">Loading…</p>;
  return (
    <ChatApp
      key={session.userId}
      session={session}
      api={api}
      firebaseState={firebaseState}
      onLogOut={logOut}
    />
  );
}
