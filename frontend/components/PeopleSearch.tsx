"use client";

import { type FormEvent, useCallback, useEffect, useId, useRef, useState } from "react";
import type { User } from "@/lib/api-types";
import type { ChatApi } from "@/lib/api";
import { formatApiError } from "@/lib/errors";

const PAGE_SIZE = 20;
const DEBOUNCE_MS = 250;
const VALID_QUERY = /^[A-Za-z0-9_.-]{1,32}$/;

interface Props {
  api: ChatApi;
  myId: string;
  onOpen: (user: User) => Promise<void>;
}

interface Results {
  query: string;
  users: User[];
  /** id to continue after, when the last page was full. */
  nextAfter: number | null;
}

export default function PeopleSearch({ api, myId, onOpen }: Props) {
  const [text, setText] = useState("");
  const [results, setResults] = useState<Results | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [opening, setOpening] = useState<string | null>(null);
  const request = useRef(0);
  const inputId = useId();
  const hintId = useId();

  const query = text.trim();
  const invalid = query !== "" && !VALID_QUERY.test(query);
  const searchable = query !== "" && !invalid;
  // Results and progress belong to a query; none show while the box is empty or invalid.
  const shown = searchable ? results : null;
  const searching = searchable && busy;

  const fetchPage = useCallback(async (q: string, after: number | null) => {
    const ticket = ++request.current;
    setBusy(true);
    setError(null);
    try {
      const page = await api.searchUsers({ q, limit: PAGE_SIZE, afterId: after ?? undefined });
      if (ticket !== request.current) return;
      const last = page[page.length - 1];
      const found = page.filter((user) => String(user.id) !== myId);
      setResults((previous) => ({
        query: q,
        users: after !== null && previous?.query === q ? [...previous.users, ...found] : found,
        nextAfter: page.length === PAGE_SIZE && last ? last.id : null,
      }));
    } catch (failure) {
      if (ticket === request.current) setError(formatApiError(failure));
    } finally {
      if (ticket === request.current) setBusy(false);
    }
  }, [api, myId]);

  useEffect(() => {
    if (!searchable) {
      request.current += 1; // an answer still on its way is for an older query
      return;
    }
    const timer = setTimeout(() => void fetchPage(query, null), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query, searchable, fetchPage]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (searchable) void fetchPage(query, null);
  };

  const open = async (user: User) => {
    setOpening(String(user.id));
    try {
      await onOpen(user);
      setText("");
    } catch (failure) {
      setError(formatApiError(failure));
    } finally {
      setOpening(null);
    }
  };

  return (
    <div className="search">
      <form role="search" onSubmit={submit}>
        <label htmlFor={inputId} className="section-title">
          Search people
        </label>
        <input
          id={inputId}
          type="search"
          placeholder="Username…"
          autoComplete="off"
          autoCapitalize="none"
          spellCheck={false}
          value={text}
          aria-describedby={hintId}
          onChange={(event) => setText(event.target.value)}
        />
      </form>
      <p id={hintId} className={invalid ? "hint error-text" : "visually-hidden"}>
        {invalid ? "Usernames only contain letters, digits and _ . -" : "Type the start of a username."}
      </p>
      {error ? (
        <p role="alert" className="error">
          {error}
        </p>
      ) : null}
      {shown ? (
        <>
          {shown.users.length === 0 && !searching ? <p className="muted">Nobody found.</p> : null}
          <ul aria-label="Search results" className="search-results">
            {shown.users.map((user) => (
              <li key={String(user.id)}>
                <button
                  type="button"
                  className="person"
                  disabled={opening !== null}
                  onClick={() => void open(user)}
                >
                  {user.username}
                </button>
              </li>
            ))}
          </ul>
          {shown.nextAfter !== null ? (
            <button
              type="button"
              className="secondary"
              disabled={searching}
              onClick={() => void fetchPage(shown.query, shown.nextAfter)}
            >
              More results
            </button>
          ) : null}
        </>
      ) : null}
      {searching ? <p className="muted" aria-live="polite">Searching…</p> : null}
    </div>
  );
}
