"""`python -m sandbox --host 127.0.0.1 --port 8001`: serve one sandbox with uvicorn.

`--state-file PATH` keeps the documents across restarts; `--user-throttle-limit N` is ERPNext's
`throttle_user_limit` (users created per hour, default 60).
"""

from __future__ import annotations

import argparse

import uvicorn

from . import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Serve the ERPNext sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--log-level", default="info")
    parser.add_argument("--state-file", default=None, help="keep the documents in this JSON file")
    parser.add_argument("--user-throttle-limit", type=int, default=60, help="users created per hour")
    args = parser.parse_args()
    app = create_app(state_file=args.state_file, user_throttle_limit=args.user_throttle_limit)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
