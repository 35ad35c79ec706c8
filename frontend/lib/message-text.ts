/** The message body rules of the chat service, checked before sending. */

export const MAX_MESSAGE_LENGTH = 4000;

/** Length in Unicode code points, as the service counts it (an emoji is one). */
export function codePointLength(text: string): number {
  return Array.from(text).length;
}

/** The length the service will see: code points of the trimmed text. */
export function messageLength(draft: string): number {
  return codePointLength(draft.trim());
}

// Control characters other than newline and tab, and lone surrogates: the very characters
// the service refuses, so the control-character rule does not apply here.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type DraftProblem = "empty" | "too_long" | "control_characters" | null;

export function draftProblem(draft: string): DraftProblem {
  const length = messageLength(draft);
  if (length === 0) return "empty";
  if (length > MAX_MESSAGE_LENGTH) return "too_long";
  if (FORBIDDEN.test(draft.trim())) return "control_characters";
  return null;
}

/** The sentence shown for a problem worth explaining (an empty draft simply cannot be sent). */
export function draftProblemText(problem: DraftProblem): string | null {
  if (problem === "too_long") return `Too long: at most ${MAX_MESSAGE_LENGTH} characters.`;
  if (problem === "control_characters") return "The message contains characters that cannot be sent.";
  return null;
}
