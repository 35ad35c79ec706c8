"use client";

import type { TimelineEntry } from "@/lib/timeline";
import MessageTime from "./MessageTime";

interface Props {
  entry: TimelineEntry;
  mine: boolean;
  senderName: string;
  onRetry: (clientMessageId: string) => void;
}

export default function MessageBubble({ entry, mine, senderName, onRetry }: Props) {
  return (
    <li
      className={`message ${mine ? "mine" : "theirs"} ${entry.status}`}
      data-testid="message"
      data-message-id={entry.messageId ?? undefined}
      data-client-message-id={entry.clientMessageId ?? undefined}
      data-status={entry.status}
      data-time={entry.time ?? undefined}
    >
      <span className="visually-hidden">{senderName}: </span>
      <p className="message-body" data-testid="message-body">
        {entry.body}
      </p>
      <span className="message-meta">
        {entry.timeIso ? <MessageTime iso={entry.timeIso} /> : null}
        {entry.status === "sending" ? <span className="message-state">Sending…</span> : null}
        {entry.status === "failed" ? (
          <>
            <span className="message-state failed-text">Not sent{entry.error ? `: ${entry.error}` : ""}</span>
            <button
              type="button"
              className="retry"
              onClick={() => entry.clientMessageId && onRetry(entry.clientMessageId)}
            >
              Retry
            </button>
          </>
        ) : null}
      </span>
    </li>
  );
}
