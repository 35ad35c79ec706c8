import { describe, expect, it } from "vitest";
import { safeHref, splitLinks } from "@/lib/links";

const joined = (body: string) => splitLinks(body).map((piece) => piece.text).join("");

describe("links in a message", () => {
  it("splits text around http and https addresses", () => {
    expect(splitLinks("see https://example.org/a?b=1#c and http://x.io")).toEqual([
      { kind: "text", text: "see " },
      { kind: "link", text: "https://example.org/a?b=1#c", href: "https://example.org/a?b=1#c" },
      { kind: "text", text: " and " },
      { kind: "link", text: "http://x.io", href: "http://x.io/" },
    ]);
  });

  it("leaves sentence punctuation and an unopened bracket outside the link", () => {
    const pieces = splitLinks("(read https://example.org/page.) or https://en.wikipedia.org/wiki/Foo_(bar), ok");
    expect(pieces.filter((piece) => piece.kind === "link").map((piece) => piece.text)).toEqual([
      "https://example.org/page",
      "https://en.wikipedia.org/wiki/Foo_(bar)",
    ]);
    expect(joined("(read https://example.org/page.) ok")).toBe("(read https://example.org/page.) ok");
  });

  it("never links other schemes or text that only looks like a link", () => {
    for (const body of [
      "javascript:alert(1)",
      "data:text/html,<script>alert(1)</script>",
      "ftp://example.org/file",
      "https://",
      "nohttps://example.org",
      "mailto:someone@example.org",
    ]) {
      expect(splitLinks(body).every((piece) => piece.kind === "text"), body).toBe(true);
      expect(joined(body)).toBe(body);
    }
  });

  it("keeps markup as plain text around a link", () => {
    const body = '<img src=x onerror=alert(1)> https://example.org/"><script>';
    const pieces = splitLinks(body);
    expect(pieces.find((piece) => piece.kind === "link")).toEqual({
      kind: "link",
      text: "https://example.org/",
      href: "https://example.org/",
    });
    expect(joined(body)).toBe(body);
  });

  it("gives a body without links back as one text piece, and an empty body as none", () => {
    expect(splitLinks("just words 😀 你好")).toEqual([{ kind: "text", text: "just words 😀 你好" }]);
    expect(splitLinks("")).toEqual([]);
  });

  it("accepts only well-formed http(s) URLs as targets", () => {
    expect(safeHref("https://example.org")).toBe("https://example.org/");
    expect(safeHref("JavaScript:alert(1)")).toBeNull();
    expect(safeHref("http://")).toBeNull();
  });
});
