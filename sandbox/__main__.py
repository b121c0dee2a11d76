"""`python -m sandbox --host 127.0.0.1 --port 8001`: serve one sandbox with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from . import create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description="Serve the ERPNext sandbox.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
