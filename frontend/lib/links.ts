/**
 * Finding web links in a message body. The UI renders the pieces as React elements (text and
 * anchors), never as HTML, and links only http and https addresses.
 */

export type TextPiece = { kind: "text"; text: string } | { kind: "link"; text: string; href: string };

// A run of characters that may belong to a URL, from "http://" or "https://" on.
const CANDIDATE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
// Punctuation that ends a sentence rather than the address: "see https://x.org/a."
const TRAILING = /[.,;:!?'"*_~]+$/;

/** Drops trailing punctuation and a closing bracket that the address did not open. */
function trimEnd(candidate: string): string {
  let text = candidate;
  for (;;) {
    const before = text;
    text = text.replace(TRAILING, "");
    for (const [open, close] of [["(", ")"], ["[", "]"], ["{", "}"]] as const) {
      if (text.endsWith(close) && count(text, close) > count(text, open)) text = text.slice(0, -1);
    }
    if (text === before) return text;
  }
}

function count(text: string, char: string): number {
  return text.split(char).length - 1;
}

/** The address as a link target, or null when it is not a well-formed http(s) URL. */
export function safeHref(text: string): string | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return null;
  if (!url.hostname) return null;
  return url.href;
}

/** The body as text and link pieces, in order; joining their `text` gives the body back. */
export function splitLinks(body: string): TextPiece[] {
  const pieces: TextPiece[] = [];
  let last = 0;
  for (const match of body.matchAll(CANDIDATE)) {
    const start = match.index;
    const text = trimEnd(match[0]);
    const href = safeHref(text);
    if (!href) continue;
    if (start > last) pieces.push({ kind: "text", text: body.slice(last, start) });
    pieces.push({ kind: "link", text, href });
    last = start + text.length;
  }
  if (last < body.length) pieces.push({ kind: "text", text: body.slice(last) });
  return pieces;
}
