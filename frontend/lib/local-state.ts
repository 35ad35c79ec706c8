/** Small per-user state kept in the browser: unsent drafts (sessionStorage, this tab). */

function draftKey(userId: string, chatId: string): string {
  return `chat.draft.v1.${userId}.${chatId}`;
}

function read(storage: () => Storage, key: string): string | null {
  try {
    return storage().getItem(key);
  } catch {
    return null;
  }
}

function write(storage: () => Storage, key: string, value: string | null): void {
  try {
    if (value === null || value === "") storage().removeItem(key);
    else storage().setItem(key, value);
  } catch {
    // Storage full or disabled: keep going without it.
  }
}

const session = () => window.sessionStorage;

export function loadDraft(userId: string, chatId: string): string {
  return read(session, draftKey(userId, chatId)) ?? "";
}

export function saveDraft(userId: string, chatId: string, text: string): void {
  write(session, draftKey(userId, chatId), text);
}

/** Removes every draft of this user (on log out). */
export function clearDrafts(userId: string): void {
  try {
    const prefix = `chat.draft.v1.${userId}.`;
    const keys: string[] = [];
    for (let i = 0; i < window.sessionStorage.length; i += 1) {
      const key = window.sessionStorage.key(i);
      if (key?.startsWith(prefix)) keys.push(key);
    }
    keys.forEach((key) => window.sessionStorage.removeItem(key));
  } catch {
    // Nothing to clear.
  }
}
