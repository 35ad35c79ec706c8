"""The browser UI as a person uses it: one `ChatPage` per browser tab, driven through the
accessible names the UI promises (labels, roles, button texts)."""

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    expect,
    sync_playwright,
)  # fmt: skip

from devstack.settings import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-results" / "browser"
"""Screenshots of the key screens, kept after the run."""
DOC_SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
"""Where `UPDATE_DOC_SCREENSHOTS=1` also writes the screenshots the docs show."""
# Debian's Chromium; Playwright never downloads a browser of its own here. The flags keep a
# headless browser from calling home (update checks, sync, field trials).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Every page reports Content-Security-Policy violations to its console, where they are collected
# (Chromium also logs each refusal there itself); the `browser` fixture fails a test that saw one.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline";
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${blocked}`);
});
"""
CSP_VIOLATIONS: list[str] = []
"""Every violation any page reported since the `browser` fixture started."""
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Debian Chromium through Playwright's synchronous API (which runs an event loop
    of its own: start it after any `asyncio.run` of the test's set-up)."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium not found: `make install` installs Debian's package", pytrace=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class ChatPage:
    page: Page
    base_url: str
    console_errors: list[str] = field(default_factory=list)

    @classmethod
    def open(
        cls, browser: Browser, base_url: str, viewport: dict[str, int] = DESKTOP
    ) -> "ChatPage":
        context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
        return cls.in_context(context, base_url)

    @classmethod
    def in_context(cls, context: BrowserContext, base_url: str) -> "ChatPage":
        """Another tab of the same browser profile (shares its session storage origin)."""
        chat_page = cls(context.new_page(), base_url)
        chat_page.page.on("console", chat_page._record_console)
        chat_page.page.add_init_script(REPORT_CSP_VIOLATIONS)
        return chat_page

    def _record_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)
        if "Content Security Policy" in message.text or message.text.startswith("CSP violation"):
            CSP_VIOLATIONS.append(f"{self.page.url}: {message.text}")

    # account

    def sign_up(self, username: str, password: str) -> None:
        self.page.goto(f"{self.base_url}/login")
        self.page.get_by_role("button", name="Create an account").click()
        self._fill_credentials(username, password)
        self.page.get_by_role("button", name="Sign up").click()
        self.expect_signed_in(username)

    def log_in(self, username: str, password: str) -> None:
        self.page.goto(f"{self.base_url}/login")
        self._fill_credentials(username, password)
        self.page.get_by_role("button", name="Log in").click()
        self.expect_signed_in(username)

    def open_app(self) -> None:
        self.page.goto(self.base_url)

    def log_out(self, everywhere: bool = False) -> None:
        name = "Log out everywhere" if everywhere else "Log out"
        self.page.get_by_role("button", name=name, exact=True).click()

    def _fill_credentials(self, username: str, password: str) -> None:
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)

    def expect_signed_in(self, username: str) -> None:
        expect(self.page.get_by_text(f"Signed in as {username}")).to_be_visible(timeout=20_000)

    def expect_login_page_saying(self, text: str, timeout: float = 20_000) -> None:
        expect(self.page).to_have_url(re.compile(r"/login/?(\?.*)?$"), timeout=timeout)
        expect(self.page.get_by_text(text)).to_be_visible()

    # people and chats

    def open_chat_with(self, username: str) -> None:
        self.page.get_by_label("Search people").fill(username)
        results = self.page.get_by_role("list", name="Search results")
        results.get_by_role("button", name=username, exact=True).click()
        self.expect_conversation_with(username)

    def open_listed_chat(self, username: str) -> None:
        self.chat_item(username).click()
        self.expect_conversation_with(username)

    def chat_item(self, username: str) -> Locator:
        return (
            self.page.get_by_role("navigation", name="Chats")
            .get_by_test_id("chat-item")
            .filter(has_text=username)
        )

    def expect_conversation_with(self, username: str) -> None:
        expect(self.conversation(username)).to_be_visible(timeout=20_000)

    def conversation(self, username: str) -> Locator:
        return self.page.get_by_role("region", name=f"Conversation with {username}")

    # messages

    @property
    def log(self) -> Locator:
        return self.page.get_by_role("log", name="Messages")

    @property
    def messages(self) -> Locator:
        return self.log.get_by_test_id("message")

    @property
    def composer(self) -> Locator:
        return self.page.get_by_label("Message", exact=True)

    def send(self, body: str) -> None:
        self.composer.fill(body)
        self.composer.press("Enter")

    @property
    def typing(self) -> Locator:
        """The peer's "typing…" line (empty while they are not typing)."""
        return self.page.get_by_test_id("typing")

    def start_editing(self, body: str) -> Locator:
        """Opens the editor of my message `body`; returns its text box."""
        self.message(body).get_by_role("button", name="Edit message").click()
        return self.log.get_by_role("textbox", name="Edited message")

    def edit(self, body: str, new_body: str) -> None:
        editor = self.start_editing(body)
        editor.fill(new_body)
        editor.press("Enter")

    def delete(self, body: str) -> None:
        message = self.message(body)
        message.get_by_role("button", name="Delete message").click()
        message.get_by_role("group", name="Delete this message?").get_by_role(
            "button", name="Delete", exact=True
        ).click()

    def unread_badge(self, username: str) -> Locator:
        return self.chat_item(username).get_by_test_id("unread-badge")

    def message(self, body: str) -> Locator:
        return self.messages.filter(
            has=self.page.get_by_test_id("message-body").get_by_text(body, exact=True)
        )

    def bodies(self) -> list[str]:
        return self.log.get_by_test_id("message-body").all_inner_texts()

    def message_ids(self) -> list[str]:
        return [str(item.get_attribute("data-message-id") or "") for item in self.messages.all()]

    def scroll_history_to_the_beginning(self, timeout: float = 60_000) -> None:
        """Scrolls up until the UI says the conversation begins, as a reader would."""
        beginning = self.log.get_by_text("Beginning of the conversation")
        deadline_ms = timeout
        while not beginning.is_visible() and deadline_ms > 0:
            self.log.evaluate("log => { log.scrollTop = 0; }")
            self.page.wait_for_timeout(300)
            deadline_ms -= 300
        expect(beginning).to_be_visible()

    def screenshot(self, folder: Path, name: str) -> Path:
        path = folder / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def document(self, name: str) -> None:
        """A screenshot for the run's artifacts, and for the docs with UPDATE_DOC_SCREENSHOTS=1."""
        self.screenshot(ARTIFACTS, name)
        if os.environ.get("UPDATE_DOC_SCREENSHOTS") == "1":
            self.screenshot(DOC_SCREENSHOTS, name)
