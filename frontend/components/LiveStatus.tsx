"use client";

import type { LiveState } from "@/lib/live";
import type { FirebaseState } from "./SessionProvider";

interface Props {
  online: boolean;
  firebaseState: FirebaseState;
  live: LiveState | null;
}

export function liveStatusText({ online, firebaseState, live }: Props): string {
  if (!online) return "Offline. Live updates resume when you are back online.";
  if (firebaseState === "failed") return "Live updates unavailable. Messages still send and load.";
  if (firebaseState === "pending" || live === null || live === "connecting") return "Connecting to live updates…";
  if (live === "error") return "Live updates paused, reconnecting…";
  return "Live";
}

export default function LiveStatus(props: Props) {
  const text = liveStatusText(props);
  return (
    <p
      className={`live-status ${text === "Live" ? "ok" : "warn"}`}
      data-testid="live-status"
      role="status"
    >
      <span className="dot" aria-hidden="true" />
      {text}
    </p>
  );
}
