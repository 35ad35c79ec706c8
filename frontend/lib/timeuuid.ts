/**
 * Ordering of version-1 TimeUUIDs: by the 60-bit timestamp, then clock sequence, then node.
 * Plain string order is wrong because the low bits of the timestamp come first in the text.
 */

const TIMEUUID = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f])([0-9a-f]{3})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

export interface TimeUuidParts {
  /** 100-ns intervals since 1582-10-15, as a bigint (60 bits). */
  timestamp: bigint;
  clockSeq: number;
  node: string;
}

export function parseTimeUuid(value: string): TimeUuidParts | null {
  const match = TIMEUUID.exec(value);
  if (!match) return null;
  const [, low, mid, , high, clock, node] = match as unknown as string[];
  const timestamp =
    (BigInt(`0x${high}`) << 48n) | (BigInt(`0x${mid}`) << 32n) | BigInt(`0x${low}`);
  return {
    timestamp,
    clockSeq: Number.parseInt(clock as string, 16) & 0x3fff,
    node: (node as string).toLowerCase(),
  };
}

/** Negative when a is older than b, positive when newer, 0 when equal. */
export function compareTimeUuid(a: string, b: string): number {
  if (a === b) return 0;
  const left = parseTimeUuid(a);
  const right = parseTimeUuid(b);
  if (!left || !right) {
    // Not TimeUUIDs: keep a stable, deterministic order; parsable ones first.
    if (left) return -1;
    if (right) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (left.timestamp !== right.timestamp) return left.timestamp < right.timestamp ? -1 : 1;
  if (left.clockSeq !== right.clockSeq) return left.clockSeq - right.clockSeq;
  if (left.node !== right.node) return left.node < right.node ? -1 : 1;
  return 0;
}
