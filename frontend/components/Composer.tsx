"use client";

import { type FormEvent, type KeyboardEvent, useId } from "react";
import { MAX_MESSAGE_LENGTH, draftProblem, draftProblemText, messageLength } from "@/lib/message-text";

interface Props {
  value: string;
  onChange: (value: string) => void;
  onSend: () => void;
}

export default function Composer({ value, onChange, onSend }: Props) {
  const ids = { input: useId(), count: useId(), problem: useId() };
  const length = messageLength(value);
  const problem = draftProblem(value);
  const tooLong = problem === "too_long";

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (problem === null) onSend();
  };

  const keyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      if (problem === null) onSend();
    }
  };

  const problemText = draftProblemText(problem);

  return (
    <form className="composer" onSubmit={submit}>
      <label htmlFor={ids.input} className="visually-hidden">
        Message
      </label>
      <textarea
        id={ids.input}
        rows={2}
        placeholder="Write a message… (Enter to send, Shift+Enter for a new line)"
        value={value}
        aria-invalid={problemText ? true : undefined}
        aria-describedby={problemText ? `${ids.count} ${ids.problem}` : ids.count}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={keyDown}
      />
      <div className="composer-side">
        <span
          id={ids.count}
          data-testid="char-count"
          className={tooLong ? "char-count over" : "char-count"}
        >
          {length} / {MAX_MESSAGE_LENGTH}
        </span>
        <button type="submit" className="primary" disabled={problem !== null}>
          Send
        </button>
      </div>
      {problemText ? (
        <p id={ids.problem} className="composer-problem" role="alert">
          {problemText}
        </p>
      ) : null}
    </form>
  );
}
