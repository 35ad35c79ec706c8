/** Comparing the services' ISO-8601 timestamps, which carry microseconds. */

const FRACTION = /\.(\d+)/;

/** Microseconds since the epoch, or NaN when the text is not a timestamp. */
export function isoToMicros(iso: string): number {
  const fraction = FRACTION.exec(iso)?.[1] ?? "";
  const millis = Date.parse(iso.replace(FRACTION, ""));
  if (Number.isNaN(millis)) return Number.NaN;
  const micros = Number.parseInt((fraction + "000000").slice(0, 6), 10);
  return millis * 1000 + micros;
}

export function isNewerIso(candidate: string, than: string | null | undefined): boolean {
  if (!than) return true;
  return isoToMicros(candidate) > isoToMicros(than);
}

export function newestIso(a: string | null | undefined, b: string | null | undefined): string | null {
  if (!a) return b ?? null;
  if (!b) return a;
  return isoToMicros(b) > isoToMicros(a) ? b : a;
}
