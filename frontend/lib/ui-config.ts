/** The runtime configuration the browser fetches from GET /ui-config. */

export interface FirebaseWebConfig {
  apiKey: string;
  authDomain: string;
  projectId: string;
  appId: string;
}

export interface UiConfig {
  firebase: FirebaseWebConfig;
  emulators: {
    /** "host:port" of the Firestore emulator, or null for the real service. */
    firestore: string | null;
    /** "host:port" of the Firebase Auth emulator, or null for the real service. */
    auth: string | null;
  };
}

type Env = Record<string, string | undefined>;

function setting(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function buildUiConfig(env: Env): UiConfig {
  return {
    firebase: {
      apiKey: setting(env, "UI_FIREBASE_API_KEY") ?? "demo-api-key",
      authDomain: setting(env, "UI_FIREBASE_AUTH_DOMAIN") ?? "",
      projectId: setting(env, "UI_FIREBASE_PROJECT_ID") ?? "demo-chat",
      appId: setting(env, "UI_FIREBASE_APP_ID") ?? "",
    },
    emulators: {
      firestore: setting(env, "UI_FIRESTORE_EMULATOR_HOST") ?? null,
      auth: setting(env, "UI_FIREBASE_AUTH_EMULATOR_HOST") ?? null,
    },
  };
}
