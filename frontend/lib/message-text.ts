/** The message body rules of the chat service, checked before sending. */

export const MAX_MESSAGE_LENGTH = 4000;

/** Length in Unicode code points, as the service counts it (an emoji is one). */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count += 1;
  return count;
}

/** The length the service will see: code points of the trimmed text. */
export function messageLength(draft: string): number {
  return codePointLength(draft.trim());
}

// Control characters other than newline and tab, and lone surrogates.
const FORBIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type DraftProblem = "empty" | "too_long" | "control_characters" | null;

export function draftProblem(draft: string): DraftProblem {
  const length = messageLength(draft);
  if (length === 0) return "empty";
  if (length > MAX_MESSAGE_LENGTH) return "too_long";
  if (FORBIDDEN.test(draft.trim())) return "control_characters";
  return null;
}
