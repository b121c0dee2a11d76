"""`python -m sandbox --host 127.0.0.1 --port 8001`: serve one sandbox with uvicorn.

`--state-file PATH` keeps the documents across restarts; `--user-throttle-limit N` is ERPNext's
`throttle_user_limit` (users created per hour, default 60); `--site NAME` (repeatable) names a site
the sandbox answers for besides 127.0.0.1, localhost and the `--host` it listens on: a request
whose Host (or X-Frappe-Site-Name) names another site is a 404, as on a multi-site bench;
`--api-key KEY:SECRET:USER` (repeatable) accepts `token KEY:SECRET` as USER besides the demo key
`sandbox:sandbox` (Administrator), so a person can act as another ERPNext user;
`--no-email-account` serves a site without an outgoing Email Account (no welcome e-mail is sent).
"""

from __future__ import annotations

import argparse

import uvicorn
from starlette.applications import Starlette

from . import create_app
from .auth import ApiKeyError, parse_api_key
from .sites import is_site_name


def main() -> None:
    args = parse_args()
    uvicorn.run(app_from(args), host=args.host, port=args.port, log_level=args.log_level)


def app_from_args(argv: list[str] | None = None) -> Starlette:
    """The app `python -m sandbox <argv>` serves (without serving it)."""
    return app_from(parse_args(argv))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Serve the ERPNext sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--state-file", default=None, help="keep the documents in this JSON file")
    parser.add_argument("--user-throttle-limit", type=int, default=60, help="users created per hour")
    parser.add_argument("--site", action="append", default=[], metavar="NAME",
                        help="a site name (Host) to answer for; repeatable")
    parser.add_argument("--api-key", action="append", default=[], type=_api_key, metavar="KEY:SECRET:USER",
                        help="also accept `token KEY:SECRET` as USER (e.g. jane@example.com); repeatable")
    parser.add_argument("--no-email-account", dest="email_account", action="store_false",
                        help="no outgoing Email Account: a new user's welcome e-mail is not sent")
    return parser.parse_args(argv)


def _api_key(text: str) -> tuple[str, str, str]:
    try:
        return parse_api_key(text)
    except ApiKeyError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def app_from(args: argparse.Namespace) -> Starlette:
    sites = [*args.site, *([args.host] if is_site_name(args.host) else [])]  # (an IPv6 address is not)
    try:
        api_keys = {key: (secret, user) for key, secret, user in args.api_key}
        return create_app(state_file=args.state_file, user_throttle_limit=args.user_throttle_limit, sites=sites,
                          api_keys=api_keys, email_account=args.email_account)
    except ValueError as exc:
        raise SystemExit(f"python -m sandbox: invalid --site {exc}") from None


if __name__ == "__main__":
    main()
