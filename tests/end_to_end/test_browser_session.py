"""Staying signed in, safely, in real headless Chromium against the whole product: the page
renews its short-lived access token through the HttpOnly refresh cookie, before it expires and
after a 401, one tab at a time; a reload keeps the session; a session revoked elsewhere reaches
the login page within one access-token lifetime; no page script can read the refresh token.

Access tokens live `ACCESS_TOKEN_SECONDS` here (the auth service's setting), so a lifetime
passes in seconds. The tests that are about time passing wait for it on purpose.
"""

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from chat_page import PHONE, ChatPage
from end_to_end_support import Pipeline, sign_up_and_log_in
from playwright.sync_api import Browser, Page, Response, expect

from devstack.testing import unique_name
from devstack.web_ui import WebUI

ACCESS_TOKEN_SECONDS = 8
REFRESH_COOKIE = "__Secure-chat_refresh"
SESSIONS_PATH = "/auth/api/v1/sessions"


def _password(username: str) -> str:
    return f"pw-{username}-long-enough"


@pytest.fixture(scope="module", autouse=True)
def short_lived_tokens() -> Iterator[int]:
    """Access tokens that expire `ACCESS_TOKEN_SECONDS` after they are made, and are refused
    one second later (the services' clock-skew allowance is 10 s by default); set for the
    module's services before they start (autouse fixtures of a scope come first)."""
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("AUTH_ACCESS_TOKEN_LIFETIME", str(ACCESS_TOKEN_SECONDS))
        environment.setenv("JWT_LEEWAY", "1")
        yield ACCESS_TOKEN_SECONDS


@dataclass
class Traffic:
    """What a page asked the services and was answered, and where it navigated."""

    answers: list[tuple[str, int]] = field(default_factory=list)
    login_pages: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("response", self._answer)
        page.on("framenavigated", lambda frame: self._navigated(frame.url))

    def _answer(self, response: Response) -> None:
        path = re.sub(r"^https?://[^/]+", "", response.url)
        if path.startswith(("/auth/api/", "/chat/api/")):
            self.answers.append((path, response.status))

    def _navigated(self, url: str) -> None:
        if "/login" in url:
            self.login_pages.append(url)

    def refreshes(self, status: int = 200) -> int:
        return sum(
            1
            for path, code in self.answers
            if path.startswith(f"{SESSIONS_PATH}/refresh") and code == status
        )

    def refused(self) -> list[str]:
        return [path for path, code in self.answers if code == 401]


@pytest.fixture
def bob(pipeline: Pipeline) -> Iterator[str]:
    """Someone to write to, signed up through the API."""
    with httpx.Client(timeout=10) as client:
        yield sign_up_and_log_in(client, pipeline, unique_name("bob")).username


def test_two_tabs_that_stay_past_many_access_token_lifetimes_never_see_the_login_page(
    short_lived_tokens: int, web_ui: WebUI, bob: str, browser: Browser
) -> None:
    name = unique_name("alice")
    first = ChatPage.open(browser, web_ui.url)
    first.sign_up(name, _password(name))
    first.open_chat_with(bob)
    # A second tab of the same browser: it shares the refresh cookie, so the two must take
    # turns to renew (presenting one refresh token twice would revoke the session).
    second = ChatPage.in_context(first.page.context, web_ui.url)
    second.open_app()
    second.expect_signed_in(name)
    traffic = Traffic()
    traffic.watch(first.page)
    traffic.watch(second.page)

    lifetimes = 2
    for n in range(lifetimes):
        # The time passing is what this test is about: each wait outlives the access token.
        first.page.wait_for_timeout(short_lived_tokens * 1000)
        first.send(f"still here after {n + 1} token lifetimes")
        expect(first.message(f"still here after {n + 1} token lifetimes")).to_have_attribute(
            "data-status", "sent"
        )
    second.expect_signed_in(name)

    assert traffic.login_pages == []
    # Renewed ahead of expiry, so nothing was ever refused; about one renewal per lifetime
    # for both tabs together, since a tab takes the grant the other one broadcast.
    assert traffic.refused() == []
    assert lifetimes <= traffic.refreshes() <= 2 * lifetimes + 2, traffic.answers

    # A reload has no token in memory: it renews through the cookie and stays signed in.
    first.page.reload()
    first.expect_signed_in(name)
    first.expect_conversation_with(bob)
    assert traffic.login_pages == []


def test_a_call_refused_for_an_expired_token_is_renewed_once_and_made_again(
    short_lived_tokens: int, web_ui: WebUI, bob: str, browser: Browser
) -> None:
    name = unique_name("carol")
    page = ChatPage.open(browser, web_ui.url)
    page.page.clock.install()
    page.sign_up(name, _password(name))
    page.open_chat_with(bob)
    traffic = Traffic()
    traffic.watch(page.page)

    # The page's clock stands still while the service's runs on: the page believes its token
    # fresh and does not renew, and the service refuses the token once its lifetime is over.
    page.page.clock.pause_at(page.page.evaluate("Date.now()") + 1)
    time.sleep(short_lived_tokens + 2)
    page.page.clock.resume()
    page.send("sent with an expired token")

    expect(page.message("sent with an expired token")).to_have_attribute("data-status", "sent")
    assert traffic.refused(), "the service should have refused the expired token"
    assert traffic.refreshes() >= 1
    sends = [code for path, code in traffic.answers if path.startswith("/chat/api/v1/messaging")]
    assert 201 in sends, traffic.answers
    assert traffic.login_pages == []


def test_a_session_revoked_from_another_device_reaches_the_login_page_within_one_lifetime(
    short_lived_tokens: int, web_ui: WebUI, browser: Browser
) -> None:
    name = unique_name("dave")
    laptop = ChatPage.open(browser, web_ui.url)
    laptop.sign_up(name, _password(name))
    phone = ChatPage.open(browser, web_ui.url, PHONE)
    phone.log_in(name, _password(name))

    phone.log_out(everywhere=True)
    revoked_at = time.monotonic()
    phone.expect_login_page_saying("You logged out on every device.")
    laptop.expect_login_page_saying(
        "Your session has ended. Please log in again.",
        timeout=(short_lived_tokens + 10) * 1000,
    )
    # Its access token still worked until its next renewal, which came before it expired.
    assert time.monotonic() - revoked_at < short_lived_tokens + 2
    # The dead refresh token is gone from the browser: a reload stays on the login page.
    assert REFRESH_COOKIE not in {cookie["name"] for cookie in laptop.page.context.cookies()}
    laptop.page.reload()
    expect(laptop.page.get_by_label("Username")).to_be_visible()


def test_no_page_script_can_read_the_refresh_token(web_ui: WebUI, browser: Browser) -> None:
    name = unique_name("erin")
    page = ChatPage.open(browser, web_ui.url)
    with page.page.expect_response(lambda answer: answer.url.endswith("/v1/login/")) as login:
        page.sign_up(name, _password(name))
    bodies = [login.value.text()]  # before a reload takes the body away
    with page.page.expect_response(lambda answer: "/sessions/refresh" in answer.url) as refresh:
        page.page.reload()
    page.expect_signed_in(name)
    assert refresh.value.status == 200
    bodies.append(refresh.value.text())

    (cookie,) = [c for c in page.page.context.cookies() if c["name"] == REFRESH_COOKIE]
    assert cookie["httpOnly"]
    assert cookie["secure"]
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == SESSIONS_PATH
    readable = page.page.evaluate(
        "() => JSON.stringify([document.cookie, {...localStorage}, {...sessionStorage}])"
    )
    assert cookie["value"] not in readable
    assert REFRESH_COOKIE not in readable
    # No token of any kind in the page's storage: the access token and Firebase's live in memory.
    assert "eyJ" not in readable, readable
    # The login and refresh answers reach the page without the refresh token.
    assert all("refresh_token" not in body and cookie["value"] not in body for body in bodies)

    page.log_out()
    expect(page.page.get_by_label("Username")).to_be_visible()
    assert REFRESH_COOKIE not in {c["name"] for c in page.page.context.cookies()}
    page.page.reload()
    expect(page.page.get_by_label("Username")).to_be_visible()
