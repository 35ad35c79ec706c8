"use client";

import { useCallback, useEffect, useLayoutEffect, useRef, useState } from "react";
import type { TimelineEntry } from "@/lib/timeline";
import MessageBubble from "./MessageBubble";

interface Props {
  entries: readonly TimelineEntry[];
  myId: string;
  myName: string;
  otherName: string;
  /** More history exists above what is loaded. */
  hasMore: boolean;
  loadingOlder: boolean;
  olderError: string | null;
  /** Never rejects: a failure shows as `olderError`. */
  onLoadOlder: () => Promise<void>;
  /** The message_id under which "Seen" shows, if any. */
  seenId: string | null;
  onRetry: (clientMessageId: string) => void;
  onEdit: (time: string, body: string) => Promise<void>;
  onDelete: (time: string) => Promise<void>;
}

const NEAR_BOTTOM_PX = 120;
/** Older messages load when the top of the list is this close to the visible area. */
const TOP_MARGIN_PX = 300;

interface Snapshot {
  firstKey: string | null;
  lastKey: string | null;
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
}

export default function MessageList(props: Props) {
  const { entries, myId, myName, otherName, seenId, hasMore, loadingOlder, olderError, onLoadOlder } = props;
  const scroller = useRef<HTMLDivElement>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const before = useRef<Snapshot | null>(null);
  const [topVisible, setTopVisible] = useState(false);

  const remember = useCallback(() => {
    const el = scroller.current;
    if (!el) return;
    before.current = {
      firstKey: entries[0]?.key ?? null,
      lastKey: entries[entries.length - 1]?.key ?? null,
      scrollTop: el.scrollTop,
      scrollHeight: el.scrollHeight,
      clientHeight: el.clientHeight,
    };
  }, [entries]);

  // Keep the reading position: older messages added above must not move what is on screen;
  // new messages at the bottom are followed when the reader was already at the bottom.
  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const previous = before.current;
    const firstKey = entries[0]?.key ?? null;
    const last = entries[entries.length - 1];
    if (!previous || previous.lastKey === null) {
      el.scrollTop = el.scrollHeight;
    } else {
      const prepended = firstKey !== previous.firstKey && entries.some((e) => e.key === previous.firstKey);
      const appended = (last?.key ?? null) !== previous.lastKey;
      const wasAtBottom =
        previous.scrollHeight - previous.scrollTop - previous.clientHeight <= NEAR_BOTTOM_PX;
      if (prepended) {
        el.scrollTop = previous.scrollTop + (el.scrollHeight - previous.scrollHeight);
      }
      if (appended && (wasAtBottom || last?.fromUser === myId)) {
        el.scrollTop = el.scrollHeight;
      }
    }
    remember();
  }, [entries, myId, remember]);

  // Watch the top of the list; loading starts when it comes near the visible area.
  useEffect(() => {
    const el = scroller.current;
    const target = sentinel.current;
    if (!el || !target) return;
    const observer = new IntersectionObserver(
      (records) => setTopVisible(records.some((record) => record.isIntersecting)),
      { root: el, rootMargin: `${TOP_MARGIN_PX}px 0px 0px 0px` },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, []);

  useEffect(() => {
    if (!topVisible || !hasMore || loadingOlder || olderError) return;
    // The observer reports asynchronously: right after a page was prepended it may still
    // say "visible" although the restored scroll position put the top far away.
    const el = scroller.current;
    if (el && el.scrollTop > TOP_MARGIN_PX) return;
    void onLoadOlder();
  }, [topVisible, hasMore, loadingOlder, olderError, onLoadOlder]);

  const empty = entries.length === 0;

  return (
    <div
      ref={scroller}
      className="message-scroller"
      role="log"
      aria-label="Messages"
      aria-live="polite"
      tabIndex={0}
      onScroll={remember}
    >
      <div ref={sentinel} className="history-edge">
        {loadingOlder ? <span className="muted">Loading older messages…</span> : null}
        {!loadingOlder && olderError ? (
          <span className="error-text">
            {olderError}{" "}
            <button type="button" className="link" onClick={() => void onLoadOlder()}>
              Try again
            </button>
          </span>
        ) : null}
        {!hasMore && !empty ? <span className="muted">Beginning of the conversation</span> : null}
      </div>
      {empty && !hasMore ? <p className="empty">No messages yet. Say hello!</p> : null}
      <ol className="messages">
        {entries.map((entry) => {
          const mine = entry.fromUser === myId;
          return (
            <MessageBubble
              key={entry.key}
              entry={entry}
              mine={mine}
              senderName={mine ? myName : otherName}
              seen={entry.messageId !== null && entry.messageId === seenId}
              onRetry={props.onRetry}
              onEdit={props.onEdit}
              onDelete={props.onDelete}
            />
          );
        })}
      </ol>
    </div>
  );
}
