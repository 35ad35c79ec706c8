/**
 * The open conversation's state as one value and the events that change it: the timeline,
 * the newest page's loading, and paging back through older history. A pure reducer, so the
 * transitions are tested without React.
 */

import type { Message } from "./api-types";
import { type PendingMessage, type Timeline, EMPTY_TIMELINE, addPending, markPending, mergeMessages } from "./timeline";

export type Phase = "loading" | "ready" | "error";

export interface ConversationState {
  timeline: Timeline;
  phase: Phase;
  /** Why the first page failed (shown instead of the list). */
  loadError: string | null;
  /** More history exists above what is loaded. */
  hasMore: boolean;
  loadingOlder: boolean;
  olderError: string | null;
}

export type ConversationEvent =
  | { type: "newest_requested" }
  | { type: "newest_loaded"; page: readonly Message[]; pageSize: number }
  | { type: "newest_failed"; error: string }
  | { type: "older_requested" }
  | { type: "older_loaded"; page: readonly Message[]; pageSize: number }
  | { type: "older_failed"; error: string }
  | { type: "messages_arrived"; messages: readonly Message[] }
  | { type: "pending_added"; message: PendingMessage }
  | { type: "pending_marked"; clientMessageId: string; status: PendingMessage["status"]; error: string | null };

export const INITIAL_CONVERSATION: ConversationState = {
  timeline: EMPTY_TIMELINE,
  phase: "loading",
  loadError: null,
  hasMore: true,
  loadingOlder: false,
  olderError: null,
};

function withTimeline(state: ConversationState, timeline: Timeline): ConversationState {
  return timeline === state.timeline ? state : { ...state, timeline };
}

export function conversationReducer(state: ConversationState, event: ConversationEvent): ConversationState {
  switch (event.type) {
    case "newest_requested":
      // A refresh of a shown conversation keeps it on screen; a first load changes nothing.
      if (state.phase === "ready" || (state.phase === "loading" && state.loadError === null)) return state;
      return { ...state, phase: "loading", loadError: null };
    case "newest_loaded": {
      // Only the first page says whether older history exists; a refresh keeps what paging learnt.
      const hasMore = state.timeline.messages.length > 0 ? state.hasMore : event.page.length === event.pageSize;
      const timeline = mergeMessages(state.timeline, event.page);
      return { ...state, timeline, hasMore, phase: "ready", loadError: null };
    }
    case "newest_failed":
      return state.phase === "ready" ? state : { ...state, phase: "error", loadError: event.error };
    case "older_requested":
      return { ...state, loadingOlder: true, olderError: null };
    case "older_loaded":
      return {
        ...state,
        timeline: mergeMessages(state.timeline, event.page),
        hasMore: state.hasMore && event.page.length === event.pageSize,
        loadingOlder: false,
      };
    case "older_failed":
      return { ...state, loadingOlder: false, olderError: event.error };
    case "messages_arrived":
      return withTimeline(state, mergeMessages(state.timeline, event.messages));
    case "pending_added":
      return withTimeline(state, addPending(state.timeline, event.message));
    case "pending_marked":
      return withTimeline(state, markPending(state.timeline, event.clientMessageId, event.status, event.error));
  }
}
