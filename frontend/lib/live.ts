/**
 * Live data of a chat from Firestore, written by the backend's consumer: the bursts
 * (`chats/{chatId}/aggregates`, whose messages change in place when edited or deleted) and
 * each member's read mark (`chats/{chatId}/reads/{uid}`). The security rules let a user read a
 * burst only when their uid is in `members`, so the query must filter on exactly that, plus
 * the time window it needs.
 */

import {
  type DocumentData,
  type DocumentReference,
  type Firestore,
  type QueryConstraint,
  collection,
  doc,
  onSnapshot,
  orderBy,
  query,
  where,
} from "firebase/firestore";
import type { Message } from "./api-types";
import { retryDelay } from "./backoff";

export type LiveState = "connecting" | "live" | "error";

export interface BurstWatch {
  db: Firestore;
  chatId: string;
  uid: string;
  /** Bursts changed (a message added, edited or deleted) at or after this ISO time; null for all. */
  since: () => string | null;
  onMessages: (messages: Message[]) => void;
  onState: (state: LiveState) => void;
}

function text(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  return null;
}

/** The messages of one burst document, skipping anything malformed. */
export function messagesOfBurst(data: DocumentData): Message[] {
  const list: unknown = data.list_of_messages;
  if (!Array.isArray(list)) return [];
  const messages: Message[] = [];
  for (const item of list) {
    if (!item || typeof item !== "object") continue;
    const raw = item as Record<string, unknown>;
    const messageId = text(raw.message_id);
    const time = text(raw.time);
    const timeIso = text(raw.time_iso);
    const body = text(raw.body);
    const from = text(raw.from_user);
    const deleted = raw.deleted === true;
    if (!messageId || !time || !timeIso || (body === null && !deleted) || !from) continue;
    messages.push({
      message_id: messageId,
      chat_id: text(raw.chat_id) ?? text(data.chat_id) ?? "",
      from_user: from,
      to_user: text(raw.to_user) ?? "",
      body: deleted ? "" : (body ?? ""),
      time,
      time_iso: timeIso,
      client_message_id: text(raw.client_message_id),
      edited_at: text(raw.edited_at),
      deleted,
      revision: text(raw.revision),
    });
  }
  return messages;
}

/** Subscribes with the callbacks it is given and returns its unsubscribe (an `onSnapshot` call). */
type Listen = (received: (fromCache: boolean) => void, failed: () => void) => () => void;

/**
 * Keeps a listener until the returned function is called: after an error it subscribes again
 * with back-off (`onError` first), the back-off starting over once a snapshot came from the server.
 */
function keepListening(listen: Listen, onError: () => void = () => undefined): () => void {
  let stopped = false;
  let unsubscribe: (() => void) | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | null = null;
  let failures = 0;

  const subscribe = () => {
    if (stopped) return;
    unsubscribe = listen(
      (fromCache) => {
        if (!fromCache) failures = 0;
      },
      () => {
        unsubscribe = null;
        if (stopped) return;
        onError();
        retryTimer = setTimeout(subscribe, retryDelay(failures));
        failures += 1;
      },
    );
  };

  subscribe();
  return () => {
    stopped = true;
    if (retryTimer) clearTimeout(retryTimer);
    unsubscribe?.();
  };
}

/** Listens until the returned function is called; re-subscribes by itself after an error. */
export function watchBursts(watch: BurstWatch): () => void {
  return keepListening(
    (received, failed) => {
      watch.onState("connecting");
      const since = watch.since();
      const constraints: QueryConstraint[] = [where("members", "array-contains", watch.uid)];
      // changed_iso moves forward with every edit or deletion, so a changed burst comes again.
      if (since) constraints.push(where("changed_iso", ">=", since));
      constraints.push(orderBy("changed_iso"));
      const bursts = query(collection(watch.db, "chats", watch.chatId, "aggregates"), ...constraints);
      return onSnapshot(
        bursts,
        { includeMetadataChanges: true },
        (snapshot) => {
          const messages: Message[] = [];
          // "added" and "modified" alike: a modified burst carries edited or deleted states.
          for (const change of snapshot.docChanges()) {
            if (change.type === "removed") continue; // expired bursts: their messages stay shown
            messages.push(...messagesOfBurst(change.doc.data()));
          }
          if (messages.length > 0) watch.onMessages(messages);
          received(snapshot.metadata.fromCache);
          watch.onState(snapshot.metadata.fromCache ? "connecting" : "live");
        },
        failed,
      );
    },
    () => watch.onState("error"),
  );
}

/** A chat's per-member documents: `reads/{uid}` (a read mark), `typing/{uid}` (typing). */
export interface MemberDocument {
  chatId: string;
  collection: "reads" | "typing";
  uid: string;
}

export function memberDocument(db: Firestore, { chatId, collection, uid }: MemberDocument): DocumentReference {
  return doc(db, "chats", chatId, collection, uid);
}

/**
 * Listens to one member's document of a chat until the returned function is called,
 * re-subscribing after an error with the same back-off; `parse` gets null while the document
 * does not exist, and `onValue` what it made of it.
 */
export function watchMemberDocument<T>(
  db: Firestore,
  member: MemberDocument,
  parse: (data: DocumentData | null) => T,
  onValue: (value: T) => void,
): () => void {
  return keepListening((received, failed) =>
    onSnapshot(
      memberDocument(db, member),
      (snapshot) => {
        received(snapshot.metadata.fromCache);
        onValue(parse(snapshot.exists() ? snapshot.data() : null));
      },
      failed,
    ),
  );
}

/** The TimeUUID up to which `reader` has read the chat, from their read-mark document. */
export function readMarkOf(data: DocumentData | null): string | null {
  return data ? text(data.up_to) : null;
}
