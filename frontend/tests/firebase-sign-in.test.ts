import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RETRY_DELAYS_MS } from "@/lib/backoff";
import { keepSigningIn } from "@/lib/firebase-sign-in";

describe("keepSigningIn", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("tries again after a failure, waiting longer each time, until it is signed in", async () => {
    const outcomes = [false, false, true];
    const signIn = vi.fn(() => (outcomes.shift() ? Promise.resolve() : Promise.reject(new Error("down"))));
    const states: string[] = [];
    keepSigningIn(signIn, (state) => states.push(state));
    await vi.advanceTimersByTimeAsync(0);
    expect(states).toEqual(["failed"]);
    await vi.advanceTimersByTimeAsync(RETRY_DELAYS_MS[0] - 1);
    expect(signIn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(signIn).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(RETRY_DELAYS_MS[1]);
    expect(signIn).toHaveBeenCalledTimes(3);
    expect(states).toEqual(["failed", "failed", "ready"]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(signIn).toHaveBeenCalledTimes(3);
  });

  it("stops trying, and says nothing more, once stopped", async () => {
    const signIn = vi.fn(() => Promise.reject(new Error("down")));
    const states: string[] = [];
    const stop = keepSigningIn(signIn, (state) => states.push(state));
    await vi.advanceTimersByTimeAsync(0);
    stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(signIn).toHaveBeenCalledTimes(1);
    expect(states).toEqual(["failed"]);
  });
});
