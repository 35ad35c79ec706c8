/**
 * "typing…": each browser writes its own `chats/{chatId}/typing/{uid}` document (`members`,
 * `until`) and listens to the peer's. No service call per keystroke: at most one write per
 * TYPING_WRITE_EVERY_MS while typing, saying "typing until now + TYPING_FOR_MS", and one
 * saying "until now" when the message is sent. The rules refuse an `until` more than 10 s ahead.
 */

import { type DocumentData, type Firestore, Timestamp, setDoc } from "firebase/firestore";
import { memberDocument } from "./live";

export const TYPING_WRITE_EVERY_MS = 5_000;
export const TYPING_FOR_MS = 6_000;

/** Whether a keystroke at `now` should be written, given the time of the last write. */
export function typingWriteDue(lastWriteAt: number | null, now: number): boolean {
  return lastWriteAt === null || now - lastWriteAt >= TYPING_WRITE_EVERY_MS;
}

/**
 * When this member's typing document is written: on the first keystroke, then at most once
 * per TYPING_WRITE_EVERY_MS, and "until now" when the message is sent while the peer may still
 * see "typing…". A keystroke with nowhere to write yet (Firebase not loaded), or whose write
 * fails, does not count: the next keystroke writes again instead of waiting out the interval.
 */
export class TypingWrites {
  private lastWriteAt: number | null = null;
  private doc: TypingDoc | null = null;

  constructor(private readonly write: (doc: TypingDoc, until: number) => Promise<void> = writeTyping) {}

  /** Where to write: this member's document once Firebase is loaded, null before and after. */
  writeTo(doc: TypingDoc | null): void {
    this.doc = doc;
  }

  typed(now: number): void {
    if (typingWriteDue(this.lastWriteAt, now)) this.writeUntil(now + TYPING_FOR_MS, now);
  }

  sent(now: number): void {
    const wrote = this.lastWriteAt;
    this.lastWriteAt = null;
    if (wrote !== null && now - wrote < TYPING_FOR_MS) this.writeUntil(now, null);
  }

  private writeUntil(until: number, writtenAt: number | null): void {
    if (this.doc === null) return;
    let written: Promise<void>;
    try {
      written = this.write(this.doc, until);
    } catch {
      return; // refused before it was sent (e.g. the client is shutting down)
    }
    this.lastWriteAt = writtenAt;
    written.catch(() => {
      if (writtenAt !== null && this.lastWriteAt === writtenAt) this.lastWriteAt = null;
    });
  }
}

/** The peer's `until` in epoch milliseconds, or null when absent or malformed. */
export function typingUntil(data: DocumentData | null): number | null {
  const until: unknown = data?.until;
  return until instanceof Timestamp ? until.toMillis() : null;
}

/** How long "typing…" stays shown from `now`: 0 when it should not show. */
export function typingShownFor(until: number | null, now: number): number {
  return until === null ? 0 : Math.max(0, until - now);
}

export interface TypingDoc {
  db: Firestore;
  chatId: string;
  uid: string;
  /** Both members' ids, in the chat's order. */
  members: readonly string[];
}

/** Writes this member's typing document; the promise is the caller's to ignore or report. */
export function writeTyping({ db, chatId, uid, members }: TypingDoc, until: number): Promise<void> {
  return setDoc(memberDocument(db, { chatId, collection: "typing", uid }), {
    members: [...members],
    until: Timestamp.fromMillis(until),
  });
}
