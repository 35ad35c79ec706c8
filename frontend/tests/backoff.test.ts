import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RETRY_DELAYS_MS, keepTrying } from "@/lib/backoff";

describe("keepTrying", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("tries again after each failure, waiting longer each time, and hands over the value", async () => {
    const outcomes = [false, false, true];
    const attempt = vi.fn(() => (outcomes.shift() ? Promise.resolve("chat") : Promise.reject(new Error("down"))));
    const done = vi.fn();
    keepTrying(attempt, done, () => true);
    await vi.advanceTimersByTimeAsync(RETRY_DELAYS_MS[0] - 1);
    expect(attempt).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(attempt).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(RETRY_DELAYS_MS[1]);
    expect(done).toHaveBeenCalledWith("chat");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it("gives up when the failure says so", async () => {
    const attempt = vi.fn(() => Promise.reject(new Error("refused")));
    const failures: unknown[] = [];
    keepTrying(attempt, vi.fn(), (error) => {
      failures.push(error);
      return false;
    });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(attempt).toHaveBeenCalledTimes(1);
    expect(failures).toHaveLength(1);
  });

  it("calls nothing once stopped, not even for an attempt under way", async () => {
    let succeed: (value: string) => void = () => undefined;
    const attempt = vi.fn(() => new Promise<string>((resolve) => (succeed = resolve)));
    const done = vi.fn();
    const stop = keepTrying(attempt, done, () => true);
    stop();
    succeed("late");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(done).not.toHaveBeenCalled();
  });
});
