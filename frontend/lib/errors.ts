/** API errors and the words shown for them. */

export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
  ctx?: Record<string, unknown>;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string | null;
  readonly detail: unknown;
  /** Seconds from the Retry-After header, when the response had one. */
  readonly retryAfter: number | null;

  constructor(status: number, code: string | null, detail: unknown, retryAfter: number | null) {
    super(typeof detail === "string" ? detail : `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

/** Thrown when the request never got an answer (offline, DNS, connection refused). */
export class NetworkError extends Error {
  constructor() {
    super("network error");
    this.name = "NetworkError";
  }
}

/**
 * Whether the same request may succeed later: no answer, a server error, a limit or a timeout.
 * Any other answer is a refusal that asking again will not change.
 */
export function isTransient(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  return error.status >= 500 || error.status === 408 || error.status === 429;
}

export function parseRetryAfter(header: string | null, now: number = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number.parseInt(trimmed, 10);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - now) / 1000));
}

export async function apiErrorFromResponse(response: Response): Promise<ApiError> {
  let detail: unknown = null;
  let code: string | null = null;
  try {
    const body: unknown = await response.json();
    if (body && typeof body === "object") {
      detail = (body as { detail?: unknown }).detail ?? null;
      const maybeCode = (body as { code?: unknown }).code;
      code = typeof maybeCode === "string" ? maybeCode : null;
    }
  } catch {
    // Not JSON: keep the status alone.
  }
  return new ApiError(
    response.status,
    code,
    detail,
    parseRetryAfter(response.headers.get("retry-after")),
  );
}

const FIELD_LABELS: Record<string, string> = {
  username: "Username",
  password: "Password",
  body: "Message",
  q: "Search",
  chat_id: "Chat",
  to_user: "Recipient",
  client_message_id: "Message id",
  quantity: "Page size",
  time: "Cursor",
  limit: "Page size",
  after_id: "Cursor",
};

function fieldLabel(loc: (string | number)[]): string {
  const named = loc.filter((part): part is string => typeof part === "string");
  // loc is e.g. ["body", "username"]; a bare ["body"] is the request body itself.
  const field = named.length > 1 ? named[named.length - 1] : named[0] === "body" ? undefined : named[0];
  if (!field) return "Request";
  return FIELD_LABELS[field] ?? field.charAt(0).toUpperCase() + field.slice(1).replace(/_/g, " ");
}

function isIssue(value: unknown): value is ValidationIssue {
  return (
    !!value &&
    typeof value === "object" &&
    Array.isArray((value as ValidationIssue).loc) &&
    typeof (value as ValidationIssue).msg === "string"
  );
}

/** One sentence per FastAPI validation issue, e.g. "Username must be at least 3 characters." */
export function validationMessages(detail: unknown): string[] {
  if (!Array.isArray(detail)) return [];
  return detail.filter(isIssue).map((issue) => {
    const label = fieldLabel(issue.loc);
    const ctx = issue.ctx ?? {};
    switch (issue.type) {
      case "missing":
        return `${label} is required.`;
      case "string_too_short":
        return ctx.min_length === 1
          ? `${label} must not be empty.`
          : `${label} must be at least ${String(ctx.min_length)} characters.`;
      case "string_too_long":
        return `${label} must be at most ${String(ctx.max_length)} characters.`;
      case "string_pattern_mismatch":
        return label === "Username" || label === "Search"
          ? `${label} may only contain letters, digits and the characters _ . -`
          : `${label} has characters that are not allowed.`;
      default: {
        const text = issue.msg.replace(/^Value error, /, "");
        return `${label}: ${text.charAt(0).toLowerCase()}${text.slice(1)}${/[.!?]$/.test(text) ? "" : "."}`;
      }
    }
  });
}

export type ErrorContext = "signup" | "login" | "send" | "change" | "general";

/** The words for the refusals of an edit or a deletion, by the service's code. */
const CHANGE_REFUSALS: Record<string, string> = {
  not_the_author: "You can only change your own messages.",
  message_not_found: "This message no longer exists.",
  message_deleted: "This message was deleted.",
};

function seconds(n: number): string {
  // Always the plural, so the wording stays predictable ("in 1 seconds" is rare and clear).
  return `${n} seconds`;
}

function tooMany(context: ErrorContext, retryAfter: number | null): string {
  const what =
    context === "send"
      ? "Too many messages"
      : context === "change"
        ? "Too many changes"
        : context === "general"
          ? "Too many requests"
          : "Too many attempts";
  return retryAfter === null ? `${what}, try again later.` : `${what}, try again in ${seconds(retryAfter)}.`;
}

/** The words shown to the person for a failed call. */
export function formatApiError(error: unknown, context: ErrorContext = "general"): string {
  if (error instanceof NetworkError) {
    return "Cannot reach the server. Check your connection and try again.";
  }
  if (!(error instanceof ApiError)) {
    return "Something went wrong. Please try again.";
  }
  const { status, detail, retryAfter } = error;
  if (status === 429) return tooMany(context, retryAfter);
  const refusal = context === "change" && error.code ? CHANGE_REFUSALS[error.code] : undefined;
  if (refusal) return refusal;
  if (status === 409 && context === "signup") return "That username is taken.";
  if (status === 401 && context === "login") return "Wrong username or password.";
  if (status === 401) return "Your session has expired. Please log in again.";
  if (status === 422) {
    const messages = validationMessages(detail);
    if (messages.length > 0) return messages.join(" ");
  }
  if (status === 503 || status === 502 || status === 504) {
    const base = typeof detail === "string" && detail ? detail : "The service is unavailable.";
    return retryAfter === null ? `${base} Please try again shortly.` : `${base} Try again in ${seconds(retryAfter)}.`;
  }
  if (typeof detail === "string" && detail) return detail;
  return `Something went wrong (HTTP ${status}). Please try again.`;
}
