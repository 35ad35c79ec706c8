"use client";

import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";
import LoginForm from "@/components/LoginForm";
import { useSession } from "@/components/SessionProvider";
import { END_NOTICES, endReasonFromPath } from "@/lib/session";

export default function LoginPage() {
  const { restoring, session, endReason } = useSession();
  const router = useRouter();
  // The reason also travels in the address, so the notice survives the redirect here.
  const [reasonInUrl] = useState(() => endReasonFromPath(window.location.search));

  useEffect(() => {
    if (session) router.replace("/");
  }, [session, router]);

  if (session || restoring) return <p className="boot">Loading…</p>;
  const reason = endReason ?? reasonInUrl;
  return <LoginForm notice={reason ? END_NOTICES[reason] : null} />;
}
