"use client";

import { formatFullTime, formatMessageTime } from "@/lib/time-format";

/** A message time in the viewer's time zone, machine-readable through dateTime. */
export default function MessageTime({ iso, className }: { iso: string; className?: string }) {
  return (
    <time dateTime={iso} title={formatFullTime(iso)} className={className}>
      {formatMessageTime(iso)}
    </time>
  );
}
