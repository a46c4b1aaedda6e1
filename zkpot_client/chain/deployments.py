"""Where the contracts are on each network: the deployments file `ape run deploy`
writes and the role commands read, and an ape network's RPC URL.

The file is JSON, keyed by the network (`ecosystem:network`, as ape names it, e.g.
`ethereum:sepolia`) and then by chain id (a local or custom network may be
restarted with another one)::

    {"ethereum:sepolia": {"11155111": {"zkpot": "0x…", "verifier": "0x…", …}}}

A deployment is merged into the file: the other networks' entries stay.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import ZKPoTFileNotFoundError, ZKPoTValueError
from ..paths import write_atomically

DEFAULT_FILE = Path("deployments.json")
"""The deployments file, relative to the directory a command runs in."""
ADHOC_NETWORK = "ethereum:custom"
"""The key ape gives a network chosen by its URL alone (`--network https://…`)."""


@dataclass(frozen=True, kw_only=True)
class DeploymentTx:
    """One deployment transaction, from its receipt."""

    address: str
    tx: str
    block: int
    gas_used: int
    gas_price: int
    """Effective gas price paid, in wei."""


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """The ZKPoT contracts on one network: ezkl's reusable verifier, ZKPoT, and the
    helpers ZKPoT's constructor deploys (the circuit registry, the stakes module)."""

    network: str
    """`ecosystem:network`."""
    chain_id: int
    verifier: DeploymentTx
    zkpot: DeploymentTx
    circuit_registry: str
    stakes_module: str
    deployer: str
    sources_digest: str
    """sha256 of the contract sources the shipped bytecode was built from."""
    deployed_at: str = field(
        default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    )

    @property
    def block(self) -> int:
        """The block the deployment finished in (the ZKPoT contract's)."""
        return self.zkpot.block

    @property
    def gas_used(self) -> int:
        """Gas of both deployment transactions."""
        return self.verifier.gas_used + self.zkpot.gas_used

    def to_json(self) -> dict[str, Any]:
        """The file's entry: the fields, and the total gas and the block for readers."""
        return {**asdict(self), "block": self.block, "gas_used": self.gas_used}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        """An entry of the file, back."""
        names = set(cls.__dataclass_fields__)
        values = {k: v for k, v in data.items() if k in names}
        values["verifier"] = DeploymentTx(**data["verifier"])
        values["zkpot"] = DeploymentTx(**data["zkpot"])
        return cls(**values)


def read_deployments(path: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """The whole deployments file (empty if there is none)."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise ZKPoTValueError(f"{path} is not a deployments file (JSON)") from exc
    if not isinstance(data, dict):
        raise ZKPoTValueError(f"{path} is not a deployments file (a JSON object)")
    return data


def record_deployment(path: Path, deployment: Deployment) -> Path:
    """Merge `deployment` into the deployments file at `path`, replacing only the
    entry of its network and chain id."""
    data = read_deployments(path)
    data.setdefault(deployment.network, {})[str(deployment.chain_id)] = (
        deployment.to_json()
    )
    write_atomically(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.chmod(path, 0o644)  # public facts, meant to be shared
    return Path(path)


def find_deployment(path: Path, network: str, chain_id: int) -> Deployment:
    """The deployment on `network` (`ecosystem:network`) with `chain_id`, from the
    deployments file at `path`; raise if it has none."""
    path = Path(path)
    if not path.is_file():
        raise ZKPoTFileNotFoundError(
            f"no deployments file {path}: deploy with `ape run deploy --network "
            f"{network}` or give --contract (or --deployments)"
        )
    by_chain = read_deployments(path).get(network, {})
    entry = by_chain.get(str(chain_id))
    if entry is None:
        other = f" (it has chain ids {', '.join(sorted(by_chain))})" if by_chain else ""
        raise ZKPoTValueError(
            f"{path} has no deployment on {network} with chain id {chain_id}{other}: "
            f"deploy with `ape run deploy --network {network}` or give --contract"
        )
    return Deployment.from_json(entry)


@dataclass(frozen=True, kw_only=True)
class NetworkTarget:
    """An ape network choice resolved: its key in the deployments file and its RPC URL."""

    choice: str
    network: str
    """`ecosystem:network`."""
    rpc: str


def is_url(choice: str) -> bool:
    """Whether a network choice is a node's HTTP URL."""
    return choice.startswith(("http://", "https://"))


def resolve_network(choice: str) -> NetworkTarget:
    """The RPC URL of ape network `choice` (`ecosystem:network[:provider]`, e.g.
    `ethereum:sepolia:node`, a custom network of ape-config.yaml, or a URL), from
    ape's configuration (`node: ethereum: sepolia: uri:` in ape-config.yaml, the
    global one in ape's data folder, or WEB3_PROVIDER_URI). Imports ape: only
    commands given --network pay for it."""
    if is_url(choice):
        return NetworkTarget(choice=choice, network=ADHOC_NETWORK, rpc=choice)
    import ape
    from ape.exceptions import ApeException

    try:
        provider = ape.networks.get_provider_from_choice(choice)
        network = provider.network
        uri = getattr(provider, "http_uri", None) or provider.uri
    except ApeException as exc:
        hint = ""
        if "Missing URI" in str(exc):
            ecosystem, _, name = choice.partition(":")
            name = name.partition(":")[0]
            hint = (
                f" (set it in ape-config.yaml, node: {ecosystem}: {name}: uri: "
                "https://…, or in WEB3_PROVIDER_URI)"
            )
        raise ZKPoTValueError(f"ape network {choice!r}: {exc}{hint}") from exc
    key = f"{network.ecosystem.name}:{network.name}"
    if not isinstance(uri, str) or not is_url(uri):
        raise ZKPoTValueError(
            f"ape network {choice!r} has no HTTP RPC URL (got {uri!r}): set one in "
            f"ape-config.yaml (node: {network.ecosystem.name}: {network.name}: uri: "
            "https://…), or start the node and give --rpc"
        )
    return NetworkTarget(choice=choice, network=key, rpc=uri)


def created_address(creator: str, nonce: int) -> str:
    """The address of the contract `creator` creates (CREATE) with `nonce`."""
    import rlp
    from eth_utils import keccak, to_checksum_address

    return to_checksum_address(
        keccak(rlp.encode([bytes.fromhex(creator.removeprefix("0x")), nonce]))[12:]
    )


def helper_addresses(zkpot: str) -> tuple[str, str]:
    """The circuit registry and the stakes module ZKPoT's constructor creates, in
    that order (a new contract's nonce starts at 1, EIP-161)."""
    return created_address(zkpot, 1), created_address(zkpot, 2)
