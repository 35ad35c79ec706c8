"use client";

import { type FormEvent, type KeyboardEvent, useId, useState } from "react";
import { draftProblem, draftProblemText } from "@/lib/message-text";

interface Props {
  initial: string;
  saving: boolean;
  onSave: (body: string) => void;
  onCancel: () => void;
}

/** Editing a message in place: Enter saves, Shift+Enter is a new line, Esc cancels. */
export default function MessageEditor({ initial, saving, onSave, onCancel }: Props) {
  const [value, setValue] = useState(initial);
  const problemId = useId();
  const problem = draftProblem(value);
  const problemText = draftProblemText(problem);

  const save = () => {
    if (problem === null && !saving) onSave(value.trim());
  };

  const submit = (event: FormEvent) => {
    event.preventDefault();
    save();
  };

  const keyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Escape") {
      event.preventDefault();
      onCancel();
    } else if (event.key === "Enter" && !event.shiftKey && !event.nativeEvent.isComposing) {
      event.preventDefault();
      save();
    }
  };

  return (
    <form className="message-editor" onSubmit={submit}>
      <textarea
        aria-label="Edited message"
        value={value}
        rows={Math.min(6, value.split("\n").length + 1)}
        autoFocus
        readOnly={saving}
        aria-invalid={problemText ? true : undefined}
        aria-describedby={problemText ? problemId : undefined}
        onChange={(event) => setValue(event.target.value)}
        onKeyDown={keyDown}
      />
      {problemText ? (
        <p id={problemId} className="editor-problem">
          {problemText}
        </p>
      ) : null}
      <span className="editor-buttons">
        <button type="submit" className="small" disabled={problem !== null || saving}>
          {saving ? "Saving…" : "Save"}
        </button>
        <button type="button" className="small" onClick={onCancel} disabled={saving}>
          Cancel
        </button>
      </span>
    </form>
  );
}
