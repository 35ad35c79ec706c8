"""The Firestore emulator of the Google Cloud SDK, loading the repo's security rules."""

import subprocess
import uuid
from pathlib import Path

from devstack.components.base import StackError
from devstack.components.jvm import JvmComponent
from devstack.programs import on_path
from devstack.settings import REPO_ROOT

RULES_FILE = REPO_ROOT / "firestore.rules"
_LAUNCHER = Path("platform/cloud-firestore-emulator/cloud_firestore_emulator")
# Admin requests with this bearer bypass the security rules (an emulator-only convention).
_OWNER = {"Authorization": "Bearer owner"}


def sdk_root() -> Path:
    gcloud = on_path(
        "gcloud",
        "install the Google Cloud SDK with its cloud-firestore-emulator component, or set "
        "FIRESTORE_EMULATOR_HOST to an emulator of your own.",
    )
    result = subprocess.run(
        [gcloud, "info", "--format=value(installation.sdk_root)"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return Path(result.stdout.strip())


class Firestore(JvmComponent):
    name = "firestore"
    ready_timeout = 90.0

    def launcher(self) -> Path:
        launcher = sdk_root() / _LAUNCHER
        if not launcher.exists():
            raise StackError(
                f"the Firestore emulator is not installed ({launcher} is missing): "
                "install the SDK component cloud-firestore-emulator."
            )
        return launcher

    def argv(self) -> list[str]:
        return [
            str(self.launcher()), "start", f"--host={self.host}", f"--port={self.port}",
            f"--rules={RULES_FILE}",
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        # The launcher runs "$JAVA"; pin it to Java 17. The emulator keeps every document in
        # its heap: 512 MB ran out after about 40,000 bursts of a benchmark run.
        return {**super().env(), "JAVA": f"{self.java()} -Xmx2g"}

    def check(self) -> None:
        """Writes a document and reads it back."""
        endpoints = self.context.endpoints
        base = (
            f"http://{endpoints.firestore_emulator_host}/v1/projects/"
            f"{endpoints.firebase_project}/databases/(default)/documents"
        )
        marker = uuid.uuid4().hex
        document = {"fields": {"marker": {"stringValue": marker}}}
        import httpx

        with httpx.Client(timeout=5, headers=_OWNER) as client:
            client.patch(f"{base}/devstack/health", json=document).raise_for_status()
            read = client.get(f"{base}/devstack/health")
            read.raise_for_status()
        if read.json()["fields"]["marker"]["stringValue"] != marker:
            raise StackError("firestore: the health document read back differs")
