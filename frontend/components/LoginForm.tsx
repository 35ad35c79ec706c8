"use client";

import { type ComponentProps, type FormEvent, useId, useState } from "react";
import { signUp } from "@/lib/api";
import { formatApiError } from "@/lib/errors";
import { useSession } from "./SessionProvider";

type Mode = "login" | "signup";

type FieldProps = Omit<ComponentProps<"input">, "onChange" | "value"> & {
  label: string;
  id: string;
  value: string;
  onChange: (value: string) => void;
};

/** A labelled text input of the form. */
function Field({ label, id, onChange, ...input }: FieldProps) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} {...input} onChange={(event) => onChange(event.target.value)} />
    </div>
  );
}

export default function LoginForm({ notice }: { notice: string | null }) {
  const { logIn } = useSession();
  const [mode, setMode] = useState<Mode>("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = { username: useId(), password: useId(), rules: useId() };

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      if (mode === "signup") {
        try {
          await signUp(username, password);
        } catch (failure) {
          setError(formatApiError(failure, "signup"));
          return;
        }
      }
      try {
        await logIn(username, password);
      } catch (failure) {
        setError(formatApiError(failure, "login"));
      }
    } finally {
      setBusy(false);
    }
  };

  const switchMode = () => {
    setMode(mode === "login" ? "signup" : "login");
    setError(null);
  };

  const title = mode === "login" ? "Log in" : "Create an account";

  return (
    <main className="login">
      <div className="login-card">
        <h1>{title}</h1>
        {notice && !error ? (
          <p role="status" className="notice">
            {notice}
          </p>
        ) : null}
        <form onSubmit={(event) => void submit(event)} noValidate aria-describedby={mode === "signup" ? ids.rules : undefined}>
          <Field
            label="Username"
            id={ids.username}
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            value={username}
            onChange={setUsername}
          />
          <Field
            label="Password"
            id={ids.password}
            name="password"
            type="password"
            autoComplete={mode === "login" ? "current-password" : "new-password"}
            value={password}
            onChange={setPassword}
          />
          {mode === "signup" ? (
            <p id={ids.rules} className="hint">
              Username: 3–32 letters, digits or _ . - characters. Password: 8–128 characters.
            </p>
          ) : null}
          {error ? (
            <p role="alert" className="error">
              {error}
            </p>
          ) : null}
          <button type="submit" className="primary" disabled={busy}>
            {mode === "login" ? "Log in" : "Sign up"}
          </button>
        </form>
        <button type="button" className="link" onClick={switchMode}>
          {mode === "login" ? "Create an account" : "I already have an account"}
        </button>
      </div>
    </main>
  );
}
