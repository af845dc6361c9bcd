"""``bridge`` command line. Each subcommand is one small function registered below."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from bridge import __version__
from bridge import config as config_module
from bridge.admin import commands as admin_commands
from bridge.config import ConfigError
from bridge.startup import StartupError

EXIT_CONFIG = 2

Command = Callable[[argparse.Namespace], int]


def cmd_version(args: argparse.Namespace) -> int:
    print(__version__)
    return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    config = config_module.load(args.path)
    for warning in config_module.warnings(config):
        print(f"bridge: warning: {warning}", file=sys.stderr)
    print(
        f"{args.path}: OK ({len(config.sci)} SCI(s); listens on "
        f"{config.http.host}:{config.http.port}; store {config.database_path()})"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bridge.daemon import run

    return run(Path(args.config))


def cmd_demo(args: argparse.Namespace) -> int:
    from bridge.demo import main as demo

    return demo(args.state_dir, args.port, args.sim_port)


def cmd_sandbox(args: argparse.Namespace) -> int:
    import anyio

    from bridge.sandbox import Sandbox, serve, simulators

    return anyio.run(serve, Sandbox(simulators(), args.host, args.port))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bridge", description="Zoho ⇄ Jira bridge daemon")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the daemon")
    run.add_argument("--config", required=True, type=Path, help="path to the TOML config")
    run.set_defaults(handler=cmd_run)

    check = commands.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("path", type=Path)
    check.set_defaults(handler=cmd_check_config)

    demo = commands.add_parser("demo", help="run the daemon against the built-in simulators")
    demo.add_argument("--state-dir", type=Path, default=Path("var/demo"),
                      help="where the demo keeps its config and database (default var/demo)")
    demo.add_argument("--port", type=int, default=8080, help="daemon port (default 8080)")
    demo.add_argument("--sim-port", type=int, default=8090,
                      help="first simulator port, the others follow (default 8090; 0: free ports)")
    demo.set_defaults(handler=cmd_demo)

    sandbox = commands.add_parser(
        "sandbox", help="serve the Jira/Zoho simulators; prints one JSON line when ready")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=0,
                         help="first port (simulators take consecutive ports); 0 = free ports")
    sandbox.set_defaults(handler=cmd_sandbox)

    admin_commands.register(commands)

    version = commands.add_parser("version", help="print the version")
    version.set_defaults(handler=cmd_version)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Command = args.handler
    try:
        return handler(args)
    except ConfigError as exc:
        print(f"bridge: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except admin_commands.CommandError as exc:
        print(f"bridge: {exc}", file=sys.stderr)
        return admin_commands.EXIT_FAILED
    except StartupError as exc:
        print(f"bridge: cannot start: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
