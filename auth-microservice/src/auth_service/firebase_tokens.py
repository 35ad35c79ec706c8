"""Firebase custom tokens (uid = our user id), so the browser can sign in to Firebase and the
Firestore rules know who reads."""

import os
import secrets
from typing import Any

import firebase_admin
import google.auth.credentials
from firebase_admin import auth, credentials

from auth_service.settings import AuthSettings

EMULATOR_ENV = "FIREBASE_AUTH_EMULATOR_HOST"


class _AnonymousCredential(credentials.Base):  # type: ignore[misc]
    """The Auth emulator needs no credentials, but firebase-admin insists on having some."""

    def get_credential(self) -> Any:
        return google.auth.credentials.AnonymousCredentials()  # type: ignore[no-untyped-call]


class FirebaseTokenMinter:
    """Owns a firebase-admin app of its own name, so it never clashes with other apps in the
    process (tests create many service instances; other libraries may use the default app)."""

    def __init__(self, settings: AuthSettings) -> None:
        credential: credentials.Base
        if settings.firebase_auth_emulator_host:
            # firebase-admin reads the emulator address only from the environment, and only
            # when it first signs; make the settings' value the one it sees.
            os.environ[EMULATOR_ENV] = settings.firebase_auth_emulator_host
            credential = _AnonymousCredential()
        else:
            os.environ.pop(EMULATOR_ENV, None)
            assert settings.firebase_credentials_file is not None  # enforced by settings
            credential = credentials.Certificate(str(settings.firebase_credentials_file))
        self._app = firebase_admin.initialize_app(
            credential,
            options={"projectId": settings.firebase_project},
            name=f"auth-service-{secrets.token_hex(4)}",
        )

    def mint(self, user_id: str) -> str:
        """A custom token for `user_id`: unsigned for the emulator, RS256 with the key file
        otherwise (signed locally; no network call in either case)."""
        token: bytes = auth.create_custom_token(user_id, app=self._app)
        return token.decode()

    def close(self) -> None:
        firebase_admin.delete_app(self._app)
