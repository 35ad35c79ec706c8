import { splitLinks } from "@/lib/links";

/** A message body with its http(s) addresses as links; everything else stays plain text. */
export default function MessageText({ body }: { body: string }) {
  return (
    <>
      {splitLinks(body).map((piece, index) =>
        piece.kind === "link" ? (
          <a key={index} href={piece.href} target="_blank" rel="noopener noreferrer">
            {piece.text}
          </a>
        ) : (
          piece.text
        ),
      )}
    </>
  );
}
