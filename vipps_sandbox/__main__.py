"""``python -m vipps_sandbox --host 127.0.0.1 --port 8100 [--seed seed.json] [--state-file state.json]``"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
from types import FrameType

from .delivery import DeliveryConfig
from .faults import Faults
from .server import SandboxServer
from .state import SandboxConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vipps_sandbox", description="Local Vipps MobilePay sandbox")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: loopback only)")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--seed", help="JSON file with sandbox merchants to pre-register")
    parser.add_argument("--state-file", help="keep QR codes, webhooks and payments across restarts in this file")
    parser.add_argument("--public-url", help="base URL for qrImageUrl/redirectUrl (default: the request's host)")
    parser.add_argument("--https-webhooks-only", action="store_true", help="refuse http webhook URLs, like Vipps")
    parser.add_argument("--webhook-retry-delays", help="comma-separated seconds between delivery attempts")
    parser.add_argument("--fault-seed", type=int, help="seed for the fault injection randomness")
    parser.add_argument(
        "--save-interval",
        type=float,
        default=2.0,
        help="seconds between saves of a changed state file (0: only on exit; default 2)",
    )
    args = parser.parse_args(argv)

    delivery = DeliveryConfig()
    if args.webhook_retry_delays:
        delivery.webhook_retry_delays = [float(x) for x in args.webhook_retry_delays.split(",") if x.strip()]
    config = SandboxConfig(
        public_url=args.public_url, allow_http_webhooks=not args.https_webhooks_only, delivery=delivery
    )
    faults = Faults()
    if args.fault_seed is not None:
        faults.seed(args.fault_seed)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    server = SandboxServer(
        args.host,
        args.port,
        config=config,
        faults=faults,
        seed=args.seed,
        state_file=args.state_file,
        save_interval=args.save_interval,
    )

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        # honcho, systemd and docker stop with SIGTERM: end the serve loop like Ctrl-C does.
        logging.getLogger("vipps_sandbox").info("SIGTERM: saving the state and stopping")
        server.request_shutdown()

    signal.signal(signal.SIGTERM, on_sigterm)
    print(
        f"Vipps sandbox on http://{args.host}:{args.port}  (phone: /_sandbox/phone, overview: /_sandbox/)", flush=True
    )
    # Ctrl-C or SIGTERM stop it; serve_forever() saves the state file on the way out (and
    # every --save-interval seconds meanwhile, so even a kill -9 loses little).
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


if __name__ == "__main__":
    main()
