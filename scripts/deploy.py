"""`ape run deploy`: deploy ezkl's reusable verifier and the ZKPoT contract to an ape
network from an ape account, and record where they are.

    ape run deploy --network ethereum:sepolia:node --account deployer

The network is any ape network choice (its RPC URL from ape-config.yaml, e.g.
`node: ethereum: sepolia: uri: https://…`); the account is an ape account alias
(`ape accounts generate deployer`), unlocked once for both transactions with the
passphrase in APE_ACCOUNTS_<alias>_PASSPHRASE or asked for. ZKPoT's constructor
deploys its circuit registry and its stakes module.

The bytecode deployed is the build shipped in the package
(zkpot_client/chain/compiled/), the one `ZKPoTContract.deploy` and
`deploy_verifier` deploy and whose ABI the role commands call, not `ape compile`'s:
ape-config.yaml compiles every contract with 100 optimizer runs, whereas the
shipped verifier is built with 1, and the metadata hash solc appends differs
between the two builds, so ape's bytecode is not the same.

The addresses, transactions and gas go into the deployments file (`--deployments`,
default deployments.json in the current directory), merged by network and chain
id; `zkpot publish|reveal|aggregate|client|watch --network` read it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from ape.cli import ConnectedProviderCommand, account_option, ape_cli_context

GWEI = 10**9
ETHER = 10**18


def contract_container(name: str) -> Any:
    """An ape contract container of shipped contract `name` (ABI and bytecode)."""
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    from zkpot_client.chain.artefacts import load

    compiled = load(name)
    bytecode = compiled.bytecode
    return ContractContainer(
        ContractType.model_validate(
            {
                "contractName": compiled.name,
                "abi": compiled.abi,
                "deploymentBytecode": {
                    "bytecode": bytecode
                    if bytecode.startswith("0x")
                    else "0x" + bytecode
                },
            }
        )
    )


def check_build_is_current() -> str:
    """The shipped build's sources digest, refusing a build older than contracts/
    (in a checkout; an installed package has no sources to compare with)."""
    from zkpot_client.chain.artefacts import VERIFIER, ZKPOT, load
    from zkpot_client.chain.compiler import sources_digest
    from zkpot_client.paths import CONTRACTS_DIR

    shipped = {load(ZKPOT).sources_digest, load(VERIFIER).sources_digest}
    if len(shipped) != 1:
        raise click.ClickException("the shipped contract builds disagree: rebuild them")
    digest = shipped.pop()
    if CONTRACTS_DIR.is_dir() and sources_digest() != digest:
        raise click.ClickException(
            "contracts/ changed since the shipped build: rebuild it with "
            "`python -m zkpot_client.chain.artefacts` (./scripts/setup.sh does)"
        )
    return digest


def deployed(container: Any, account: Any, *args: Any) -> tuple[Any, Any]:
    """Deploy `container` from `account`; the contract and its receipt."""
    from ape import chain

    contract = account.deploy(container, *args)
    receipt = chain.get_receipt(contract.txn_hash)
    click.echo(
        f"  {container.contract_type.name}: {contract.address}, gas {receipt.gas_used:,} "
        f"(tx {receipt.txn_hash}, block {receipt.block_number})"
    )
    return contract, receipt


def record(receipt: Any) -> Any:
    """The deployments file's record of a deployment transaction, from its receipt."""
    from zkpot_client.chain.deployments import DeploymentTx

    return DeploymentTx(
        address=str(receipt.contract_address),
        tx=str(receipt.txn_hash),
        block=int(receipt.block_number),
        gas_used=int(receipt.gas_used),
        gas_price=int(receipt.gas_price),
    )


@click.command(cls=ConnectedProviderCommand)
@ape_cli_context()
@account_option()
@click.option(
    "--deployments",
    type=click.Path(dir_okay=False, path_type=Path),
    default="deployments.json",
    show_default=True,
    help="Deployments file to merge this deployment into (by network and chain id).",
)
def cli(cli_ctx: Any, provider: Any, account: Any, deployments: Path) -> None:
    """Deploy ezkl's reusable verifier and the ZKPoT contract (with its circuit
    registry and stakes module) and record them in the deployments file."""
    from zkpot_client.chain.artefacts import VERIFIER, ZKPOT
    from zkpot_client.chain.deployments import (
        Deployment,
        helper_addresses,
        record_deployment,
    )

    digest = check_build_is_current()
    network = provider.network
    key = f"{network.ecosystem.name}:{network.name}"
    chain_id = int(provider.chain_id)
    click.echo(
        f"deploying to {key} (chain {chain_id}) from {account.address}, balance "
        f"{provider.get_balance(account.address) / ETHER:.6g} ETH"
    )
    if hasattr(account, "set_autosign"):  # a keystore account: unlock it once
        account.set_autosign(True)
    try:
        verifier, verifier_receipt = deployed(contract_container(VERIFIER), account)
        zkpot, zkpot_receipt = deployed(
            contract_container(ZKPOT), account, verifier.address
        )
    finally:
        if hasattr(account, "set_autosign"):
            account.set_autosign(False)
    registry, stakes_module = helper_addresses(zkpot.address)
    if zkpot.circuits() != registry or not provider.get_code(stakes_module):
        raise click.ClickException(
            f"ZKPoT at {zkpot.address} did not create its helpers where expected"
        )
    deployment = Deployment(
        network=key,
        chain_id=chain_id,
        verifier=record(verifier_receipt),
        zkpot=record(zkpot_receipt),
        circuit_registry=registry,
        stakes_module=stakes_module,
        deployer=str(account.address),
        sources_digest=digest,
    )
    path = record_deployment(deployments, deployment)
    cost = sum(r.gas_used * r.gas_price for r in (verifier_receipt, zkpot_receipt))
    click.echo(
        f"  CircuitRegistry: {registry}, ZKPoTStakesModule: {stakes_module} "
        "(created by ZKPoT's constructor)\n"
        f"gas used: {deployment.gas_used:,} in all, {cost / ETHER:.6g} ETH at "
        f"{zkpot_receipt.gas_price / GWEI:.4g} gwei\n"
        f"recorded under {key} / {chain_id} in {path}"
    )
