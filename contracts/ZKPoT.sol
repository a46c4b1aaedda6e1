// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {ZKPoTStorage} from "./base/ZKPoTStorage.sol";
import {ZKPoTPayouts} from "./base/ZKPoTPayouts.sol";
import {ZKPoTProofs} from "./base/ZKPoTProofs.sol";
import {ZKPoTRounds} from "./base/ZKPoTRounds.sol";
import {ZKPoTTasks} from "./base/ZKPoTTasks.sol";
import {CircuitRegistry} from "./verifier/CircuitRegistry.sol";

/// @title ZKPoT
/// @notice Zero-knowledge proof-of-training consensus for federated learning.
///         Staked clients prove with a zk-SNARK that the model they committed to
///         classifies a number of the task's evaluation samples correctly; the
///         contract accepts contributions whose proof verifies, elects each round's
///         leader by verified accuracy, pays rewards from the task's pool, slashes
///         provable faults and keeps a hash chain of round records. Neither weights
///         nor data ever reach the chain.
/// @dev Composed of one linear chain of abstract parts, listed from the base:
///      ZKPoTStorage (the state, in ZKPoTState, and the contracts ZKPoT deploys for
///      itself), ZKPoTPayouts (credits; stakes, slashing, disputes, rewards and
///      withdrawal run in ZKPoTStakesModule by delegatecall), ZKPoTProofs (commitment
///      openings, model freshness), ZKPoTRounds (commit, prove or claim, close,
///      aggregate, the leader's election and the record chain) and ZKPoTTasks
///      (circuits and tasks). Key artefacts are kept once by CircuitRegistry, which
///      runs ezkl's verifier under them. Functions and their NatSpec: IZKPoT; types,
///      errors and events: IZKPoTTypes.
///      Leader tie-break: the higher count wins, and among equal counts the lower
///      keccak256(abi.encode(seed, client)), where the round's seed derives from the
///      hash of its commit-end block: no client can choose it (addresses are fixed at
///      registration, weights at commitment), and the outcome does not depend on
///      transaction order. The only loop is an optimistic round's close, over the
///      standing contributions its caller lists (at most `maxClients`): missed proofs
///      are punished one client at a time (`slashMissedProof`, or on the client's next
///      commit or stake release), and rewards are claimed one contribution at a time. ETH leaves the contract only
///      in `withdraw`, after the sender's credit is zeroed.
contract ZKPoT is ZKPoTStorage, ZKPoTPayouts, ZKPoTProofs, ZKPoTRounds, ZKPoTTasks {
    /// @param verifier_ ezkl's reusable Halo2 verifier (contracts/verifier/).
    constructor(address verifier_) ZKPoTStorage(verifier_, address(new CircuitRegistry(verifier_))) {}
}
