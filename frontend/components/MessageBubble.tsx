"use client";

import { type KeyboardEvent, useEffect, useRef, useState } from "react";
import type { TimelineEntry } from "@/lib/timeline";
import { formatFullTime } from "@/lib/time-format";
import MessageEditor from "./MessageEditor";
import MessageText from "./MessageText";
import MessageTime from "./MessageTime";

interface Props {
  entry: TimelineEntry;
  mine: boolean;
  senderName: string;
  /** "Seen" shows under this message: the last of mine the peer has read. */
  seen: boolean;
  onRetry: (clientMessageId: string) => void;
  /** Resolve once saved; reject with the words to show. */
  onEdit: (time: string, body: string) => Promise<void>;
  onDelete: (time: string) => Promise<void>;
}

type Mode = "view" | "editing" | "confirming";

export default function MessageBubble({ entry, mine, senderName, seen, onRetry, onEdit, onDelete }: Props) {
  const [mode, setMode] = useState<Mode>("view");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const changeable = mine && entry.status === "sent" && !entry.deleted && entry.time !== null;
  const shownMode: Mode = changeable ? mode : "view";
  // Back from the editor or the confirmation, the keyboard continues from "Edit message".
  const editButton = useRef<HTMLButtonElement>(null);
  const returnFocus = useRef(false);
  useEffect(() => {
    if (shownMode !== "view" || !returnFocus.current) return;
    returnFocus.current = false;
    editButton.current?.focus();
  }, [shownMode]);

  const close = () => {
    returnFocus.current = true;
    setMode("view");
    setError(null);
  };

  const run = async (change: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await change();
      returnFocus.current = true;
      setMode("view");
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  const save = (body: string) => {
    if (body === entry.body) close();
    else if (entry.time) void run(() => onEdit(entry.time as string, body));
  };

  const confirmKeyDown = (event: KeyboardEvent) => {
    if (event.key === "Escape") close();
  };

  return (
    <li
      className={`message ${mine ? "mine" : "theirs"} ${entry.status}${entry.deleted ? " deleted" : ""}`}
      data-testid="message"
      data-message-id={entry.messageId ?? undefined}
      data-client-message-id={entry.clientMessageId ?? undefined}
      data-status={entry.status}
      data-time={entry.time ?? undefined}
      data-deleted={entry.deleted ? "true" : undefined}
    >
      <span className="visually-hidden">{senderName}: </span>
      {entry.deleted ? (
        <p className="message-body tombstone" data-testid="message-body">
          Message deleted
        </p>
      ) : shownMode === "editing" ? (
        <MessageEditor
          initial={entry.body}
          saving={busy}
          onSave={save}
          onCancel={close}
        />
      ) : (
        <p className="message-body" data-testid="message-body">
          <MessageText body={entry.body} />
        </p>
      )}
      <span className="message-meta">
        {entry.timeIso ? <MessageTime iso={entry.timeIso} /> : null}
        {entry.editedAt && !entry.deleted ? (
          <span className="message-edited" data-testid="edited" title={`Edited ${formatFullTime(entry.editedAt)}`}>
            edited
          </span>
        ) : null}
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
        {changeable && shownMode === "view" ? (
          <span className="message-actions">
            <button
              ref={editButton}
              type="button"
              className="icon"
              aria-label="Edit message"
              title="Edit"
              onClick={() => setMode("editing")}
            >
              <span aria-hidden="true">✎</span>
            </button>
            <button
              type="button"
              className="icon"
              aria-label="Delete message"
              title="Delete"
              onClick={() => setMode("confirming")}
            >
              <span aria-hidden="true">🗑</span>
            </button>
          </span>
        ) : null}
      </span>
      {shownMode === "confirming" ? (
        <div className="confirm" role="group" aria-label="Delete this message?" onKeyDown={confirmKeyDown}>
          <span>Delete this message?</span>
          <button
            type="button"
            className="small danger"
            disabled={busy}
            onClick={() => entry.time && void run(() => onDelete(entry.time as string))}
          >
            {busy ? "Deleting…" : "Delete"}
          </button>
          <button type="button" className="small" autoFocus disabled={busy} onClick={close}>
            Cancel
          </button>
        </div>
      ) : null}
      {error ? (
        <p className="change-error" role="alert">
          {error}
        </p>
      ) : null}
      {seen ? (
        <span className="seen" data-testid="seen">
          Seen
        </span>
      ) : null}
    </li>
  );
}
