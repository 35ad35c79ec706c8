"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import LoginForm from "@/components/LoginForm";
import { useSession } from "@/components/SessionProvider";

const EXPIRED_NOTICE = "Your session has expired. Please log in again.";

export default function LoginPage() {
  const { session, endReason } = useSession();
  const router = useRouter();
  const [expiredInUrl] = useState(
    () => new URLSearchParams(window.location.search).get("expired") === "1",
  );

  useEffect(() => {
    if (session) router.replace("/");
  }, [session, router]);

  if (session) return <p className="boot">Loading…</p>;
  const notice = endReason === "expired" || expiredInUrl ? EXPIRED_NOTICE : null;
  return <LoginForm notice={notice} />;
}
