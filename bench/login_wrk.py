"""Logins under wrk: POST /auth/api/v1/login/ of the auth service against the running stack's
Postgres, in a scratch database.

`--users` users are signed up first; every request logs one of them in (a form-encoded
username and password, the users taken in turn) and must answer 200. A login is bounded by
design: the service verifies an Argon2id hash (about 19 MiB and two passes per verification,
at most `AUTH_PASSWORD_HASH_CONCURRENCY` at a time), so its rate measures the hash cost on
this machine far more than the HTTP layer or Postgres. The same run measures wrk on GET
health (the ceiling of the load generator and the HTTP layer).

CPU milliseconds per request are read for the auth service, wrk and Postgres. Postgres serves
each connection from a process of its own, so its figure is that of the whole server: the
recorded process and every process under it, living or already reaped (as for every process
the benchmarks measure). Figures are medians
of the rounds.

    uv run python bench/login_wrk.py [--seconds 20] [--rounds 3] [--connections 10] \\
        [--users 50]

Needs the running stack (`make up`) and `wrk`. Prints a table and writes
bench/results/login_wrk.json.
"""

import argparse
import asyncio
import secrets
import tempfile
from pathlib import Path
from typing import Any

import httpx
from harness import BIN, scratch_environment, serving, stack_pid, write_result
from load_generator import RESULT_LUA, measured, median_of, print_table, require_wrk, wrk

from devstack.settings import StackSettings

_LOGIN_LUA = """
local users = {%(users)s}
threads = {}
local bodies = {}

local function encoded(text)
  return (string.gsub(text, "[^%%w%%-%%._~]", function(c)
    return string.format("%%%%%%02X", string.byte(c))
  end))
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  n, bad = 0, 0
  for i, user in ipairs(users) do
    bodies[i] = "username=" .. encoded(user[1]) .. "&password=" .. encoded(user[2])
  end
end

function request()
  n = n + 1
  return wrk.format("POST", nil,
    {["Content-Type"] = "application/x-www-form-urlencoded"}, bodies[(n %% #bodies) + 1])
end

function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
"""


def lua_text(value: str) -> str:
    """`value` as a Lua string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_script(users: list[tuple[str, str]]) -> str:
    rows = ", ".join(f"{{{lua_text(name)}, {lua_text(password)}}}" for name, password in users)
    return (_LOGIN_LUA % {"users": rows}) + RESULT_LUA


async def sign_up(auth_url: str, count: int) -> list[tuple[str, str]]:
    """`count` new users (username, password); checks that the first of them can log in."""
    async with httpx.AsyncClient(base_url=auth_url, timeout=60) as auth:
        users = [(f"bench_{secrets.token_hex(5)}", secrets.token_urlsafe(12)) for _ in range(count)]
        for name, password in users:
            created = await auth.post(
                "/auth/api/v1/users/", json={"username": name, "password": password}
            )
            created.raise_for_status()
        name, password = users[0]
        login = await auth.post(
            "/auth/api/v1/login/", data={"username": name, "password": password}
        )
        login.raise_for_status()
        assert login.json()["access_token"], "login without a token"
    return users


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    require_wrk()
    summary = run_all(StackSettings(), stack_pid("postgres"), args)
    print_table(summary, baseline=f"login x{args.connections}")
    write_result(
        "login_wrk",
        {
            "connections": args.connections,
            "users": args.users,
            "seconds": args.seconds,
            "rounds": args.rounds,
            "summary": summary,
        },
    )


def run_all(
    settings: StackSettings, postgres: int | None, args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    with (
        scratch_environment(settings.endpoints) as env,
        serving(BIN / "auth-service", env, "/auth/api") as (auth_url, auth),
    ):
        users = asyncio.run(sign_up(auth_url, args.users))
        with tempfile.TemporaryDirectory() as folder:
            script = Path(folder) / "login.lua"
            script.write_text(lua_script(users))
            return _rounds(auth_url, auth.pid, postgres, script, args)


def _rounds(
    auth_url: str, auth: int, postgres: int | None, script: Path, args: argparse.Namespace
) -> dict[str, dict[str, Any]]:
    login, health = f"{auth_url}/auth/api/v1/login/", f"{auth_url}/auth/api/health/"
    wrk(login, 3, args.connections, script)  # warm-up: connection pool, hasher, caches
    results: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.rounds):
        results.setdefault(f"login x{args.connections}", []).append(
            measured(
                {"auth": auth, "postgres": postgres},
                lambda: wrk(login, args.seconds, args.connections, script),
            )
        )
        results.setdefault(f"GET health x{args.connections}", []).append(
            measured({"auth": auth}, lambda: wrk(health, args.seconds, args.connections))
        )
    return {name: median_of(rounds) for name, rounds in results.items()}


if __name__ == "__main__":
    main()
