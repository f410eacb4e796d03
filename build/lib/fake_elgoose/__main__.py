"""``python -m fake_elgoose``: serve the bundled fixtures (or a snapshot) until Ctrl-C / SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from fake_elgoose.server import FakeElGoose, load_fixtures, load_snapshot


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fake_elgoose", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = any free)")
    parser.add_argument("--snapshot", metavar="PATH", help="serve a snapshot folder instead of the fixtures")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    data = load_snapshot(args.snapshot) if args.snapshot else load_fixtures()
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)

    srv = FakeElGoose(data, host=args.host, port=args.port, verbose=args.verbose)
    srv.start()
    # the stdout line is a stable contract (scripts wait for it); the source goes to stderr
    print(f"serving ElGoose fixtures at {srv.base_url}", flush=True)
    source = f"snapshot {args.snapshot}" if args.snapshot else "bundled fixtures"
    print(f"data: {source}; Ctrl-C to stop", file=sys.stderr, flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
