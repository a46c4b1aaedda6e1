"""A private IPFS node on loopback, for the content store's tests and for trying
`--store http://...` on one machine.

`IpfsNode` starts js-ipfs (npm ``ipfs``, installed by scripts/setup.sh; its
daemon serves the Kubo RPC API) in a new temporary repository, with its RPC API
and its swarm on 127.0.0.1 only, no bootstrap peers, no routing, no discovery,
no NAT mapping and no preloading: it talks to nothing beyond this machine. It
waits until the API answers and, on exit, stops the node and removes the
repository. A Kubo daemon (``ipfs daemon``) serves the same API if you have one.

Run ``python -m zkpot_client.ipfs_node`` to keep one up until interrupted.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import click

from .chain.backend import free_port
from .exceptions import ToolchainError
from .paths import PROJECT_ROOT, tool

DAEMON = "jsipfs"
"""The node's command (js-ipfs), linked into .venv/bin by scripts/setup.sh."""


class IpfsNode:
    """An IPFS node on loopback in a temporary repository, for a `with` block.

    Parameters
    ----------
    api_port, swarm_port
        Loopback ports of the RPC API and of the swarm (default: free ones).
    startup_timeout
        Seconds to wait for the API to answer.
    """

    def __init__(
        self,
        *,
        api_port: int | None = None,
        swarm_port: int | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        binary = tool(DAEMON) or _in_node_modules()
        if binary is None:
            raise ToolchainError(
                f"{DAEMON} (js-ipfs) not found: run ./scripts/setup.sh"
            )
        self.api_port = api_port or free_port()
        self.swarm_port = swarm_port or free_port()
        self.url = f"http://127.0.0.1:{self.api_port}"
        self.repo = Path(tempfile.mkdtemp(prefix="zkpot-ipfs-"))
        self.env = {
            **os.environ,
            "IPFS_PATH": str(self.repo),
            "NO_UPDATE_NOTIFIER": "1",
        }
        self.process: subprocess.Popen[bytes] | None = None
        try:
            self._init(binary)
            self.log = open(self.repo / "daemon.log", "wb")  # closed in stop()
            self.process = subprocess.Popen(
                [binary, "daemon", "--enable-preload=false"],
                stdout=self.log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
            self._wait(startup_timeout)
        except BaseException:
            self.stop()
            raise

    def _init(self, binary: str) -> None:
        """Create the repository and confine the node to loopback."""
        done = subprocess.run(
            [binary, "init", "--empty-repo", "--profile", "test"],
            env=self.env,
            capture_output=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise ToolchainError(
                f"{DAEMON} init failed: {done.stderr.decode(errors='replace')[-2000:]}"
            )
        path = self.repo / "config"
        config = json.loads(path.read_text())
        config["Addresses"].update(
            API=f"/ip4/127.0.0.1/tcp/{self.api_port}",
            Swarm=[f"/ip4/127.0.0.1/tcp/{self.swarm_port}"],
            Gateway="",
            RPC="",
            Delegates=[],
            Announce=[],
        )
        config["Bootstrap"] = []
        config["Routing"] = {"Type": "none"}
        config["Discovery"] = {
            "MDNS": {"Enabled": False, "Interval": 10},
            "webRTCStar": {"Enabled": False},
        }
        config.setdefault("Swarm", {})["DisableNatPortMap"] = True
        path.write_text(json.dumps(config, indent=2))

    def _wait(self, seconds: float) -> None:
        """Return once the RPC API answers; raise if the daemon dies or is late."""
        import requests

        assert self.process is not None
        deadline = time.monotonic() + seconds
        while True:
            try:
                answer = requests.post(f"{self.url}/api/v0/version", timeout=5)
                if answer.ok:
                    self.version = str(answer.json().get("Version", "?"))
                    return
            except requests.RequestException:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                tail = (self.repo / "daemon.log").read_text(errors="replace")[-2000:]
                raise ToolchainError(f"the IPFS node did not start: {tail.strip()}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the node (SIGTERM, then SIGKILL after 20 s) and remove its repository."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "log", None) is not None:
            self.log.close()
        shutil.rmtree(self.repo, ignore_errors=True)

    def __enter__(self) -> IpfsNode:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _in_node_modules() -> str | None:
    """The daemon in this checkout's node_modules, if setup.sh has not linked it."""
    path = PROJECT_ROOT / "node_modules" / ".bin" / DAEMON
    return str(path) if path.exists() else None


@click.command()
@click.option("--port", type=int, default=5001, show_default=True, help="RPC API port.")
@click.option("--swarm-port", type=int, help="Swarm port (default: a free one).")
def main(port: int, swarm_port: int | None) -> None:
    """Run a private IPFS node on 127.0.0.1 until interrupted (for `--store URL`)."""
    with IpfsNode(api_port=port, swarm_port=swarm_port) as node:
        click.echo(f"IPFS node (js-ipfs {node.version}) at {node.url}; Ctrl-C stops it")
        try:
            while node.process is not None and node.process.poll() is None:
                time.sleep(1)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
