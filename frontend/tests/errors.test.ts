import { describe, expect, it } from "vitest";
import {
  ApiError,
  NetworkError,
  apiErrorFromResponse,
  formatApiError,
  isTransient,
  parseRetryAfter,
  validationMessages,
} from "@/lib/errors";

describe("formatApiError", () => {
  it("names a taken username on sign-up", () => {
    expect(formatApiError(new ApiError(409, "username_taken", "x", null), "signup")).toBe("That username is taken.");
  });

  it("explains wrong credentials on log-in", () => {
    expect(formatApiError(new ApiError(401, "bad_credentials", "x", null), "login")).toBe("Wrong username or password.");
  });

  it("uses Retry-After for 429", () => {
    expect(formatApiError(new ApiError(429, "rate_limited", "x", 12), "login")).toBe(
      "Too many attempts, try again in 12 seconds.",
    );
    expect(formatApiError(new ApiError(429, "rate_limited", "x", 3), "send")).toBe(
      "Too many messages, try again in 3 seconds.",
    );
    expect(formatApiError(new ApiError(429, "rate_limited", "x", null), "signup")).toBe(
      "Too many attempts, try again later.",
    );
  });

  it("explains each failed validation rule", () => {
    const detail = [
      { type: "string_too_short", loc: ["body", "username"], msg: "String should have at least 3 characters", ctx: { min_length: 3 } },
      { type: "string_pattern_mismatch", loc: ["body", "username"], msg: "String should match pattern", ctx: {} },
      { type: "string_too_short", loc: ["body", "password"], msg: "String should have at least 8 characters", ctx: { min_length: 8 } },
      { type: "value_error", loc: ["body", "body"], msg: "Value error, body must not be empty" },
      { type: "missing", loc: ["body", "password"], msg: "Field required" },
    ];
    expect(validationMessages(detail)).toEqual([
      "Username must be at least 3 characters.",
      "Username may only contain letters, digits and the characters _ . -",
      "Password must be at least 8 characters.",
      "Message: body must not be empty.",
      "Password is required.",
    ]);
    expect(formatApiError(new ApiError(422, "validation_error", detail.slice(0, 1), null), "signup")).toBe(
      "Username must be at least 3 characters.",
    );
  });

  it("shows a service outage with its wait", () => {
    const error = new ApiError(503, "service_unavailable", "The chat service is unavailable.", 5);
    expect(formatApiError(error, "send")).toBe("The chat service is unavailable. Try again in 5 seconds.");
  });

  it("reports network failures and unknown errors in words", () => {
    expect(formatApiError(new NetworkError())).toMatch(/Cannot reach the server/);
    expect(formatApiError(new Error("boom"))).toBe("Something went wrong. Please try again.");
    expect(formatApiError(new ApiError(500, null, null, null))).toMatch(/HTTP 500/);
  });
});

describe("which failures may pass by themselves", () => {
  it("takes no answer, server errors, limits and timeouts for passing, other answers for refusals", () => {
    expect(isTransient(new NetworkError())).toBe(true);
    for (const status of [500, 502, 503, 504, 408, 429]) {
      expect(isTransient(new ApiError(status, null, null, null))).toBe(true);
    }
    for (const status of [400, 401, 403, 404, 409, 422]) {
      expect(isTransient(new ApiError(status, null, null, null))).toBe(false);
    }
  });
});

describe("parsing responses", () => {
  it("reads detail, code and Retry-After", async () => {
    const response = new Response(JSON.stringify({ detail: "slow down", code: "rate_limited" }), {
      status: 429,
      headers: { "content-type": "application/json", "retry-after": "7" },
    });
    const error = await apiErrorFromResponse(response);
    expect(error).toMatchObject({ status: 429, code: "rate_limited", detail: "slow down", retryAfter: 7 });
  });

  it("survives a body that is not JSON", async () => {
    const error = await apiErrorFromResponse(new Response("<html>", { status: 502 }));
    expect(error).toMatchObject({ status: 502, code: null, detail: null, retryAfter: null });
  });

  it("accepts Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("30", now)).toBe(30);
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:00:10 GMT", now)).toBe(10);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter("soon", now)).toBeNull();
  });
});

describe("edit and delete refusals", () => {
  it("names each refusal of a change in words", () => {
    const refusal = (status: number, code: string) =>
      formatApiError(new ApiError(status, code, "raw detail", null), "change");
    expect(refusal(403, "not_the_author")).toBe("You can only change your own messages.");
    expect(refusal(404, "message_not_found")).toBe("This message no longer exists.");
    expect(refusal(409, "message_deleted")).toBe("This message was deleted.");
    expect(formatApiError(new ApiError(429, "rate_limited", "slow", 4), "change")).toBe(
      "Too many changes, try again in 4 seconds.",
    );
    expect(formatApiError(new ApiError(503, "x", "The chat service is unavailable.", 5), "change")).toBe(
      "The chat service is unavailable. Try again in 5 seconds.",
    );
  });
});
