// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoTTypes} from "./IZKPoTTypes.sol";

/// @title IZKPoT
/// @notice Types, errors, events and external functions of the ZKPoT consensus
///         contract: zero-knowledge proof of training for federated learning.
/// @dev Life of a task (docs/protocol.md has the diagram):
///      Registration (clients stake) -> rounds 1..numRounds -> Completed, or
///      Registration -> Cancelled (publisher only, before the start block).
///      Each round: Commit -> Prove -> Aggregate, all in blocks. After the proof
///      phase anyone closes the round (leader elected, rewards fixed); the aggregator
///      publishes the new global model before the aggregate phase ends, or anyone
///      finalises the round without it (aggregator slashed, previous model kept).
///      Each finalised round appends a record to the task's hash chain.
interface IZKPoT is IZKPoTTypes {
    // ------------------------------------------------------------------ FUNCTIONS

    /// @notice Register a circuit's verification-key artefact, here and on the verifier,
    ///         after checking that it is canonical (every field element reduced, every
    ///         pointer word free of ignored bits), so that one circuit has one digest.
    ///         Fixes the length of the circuit's proofs. Anyone may call; registering
    ///         an artefact twice changes nothing.
    /// @param vka The artefact's words, as ezkl writes them (without the length prefix).
    /// @return vkaDigest keccak256 of the words, for `TaskConfig.vkaDigest`.
    function registerCircuit(bytes32[] calldata vka) external returns (bytes32 vkaDigest);

    /// @notice Create a task. `msg.value` funds the aggregator bond
    ///         (`config.aggregatorBond`) and the reward pool (the rest).
    /// @param config The task's parameters.
    /// @return taskId The new task's id (ids start at 1).
    function createTask(TaskConfig calldata config) external payable returns (uint256 taskId);

    /// @notice Cancel a task before round 1 opens; the pool and bond are credited back
    ///         to the publisher and registered clients may release their stakes.
    /// @param taskId The task.
    function cancelTask(uint256 taskId) external;

    /// @notice Register for a task with a stake (`msg.value`, at least `minStake`),
    ///         during its registration phase.
    /// @param taskId The task.
    function register(uint256 taskId) external payable;

    /// @notice Commit to this round's weights as
    ///         keccak256(abi.encode(sender, taskId, round, weightsHash, salt)).
    /// @param taskId The task.
    /// @param round The task's current round.
    /// @param commitment The salted commitment.
    function commit(uint256 taskId, uint256 round, bytes32 commitment) external;

    /// @notice Submit a proof that the committed weights classify `claimedCorrect`
    ///         evaluation samples correctly.
    /// @param taskId The task.
    /// @param round The task's current round.
    /// @param submission The proof, its public instances and the commitment's opening.
    function submitProof(uint256 taskId, uint256 round, Submission calldata submission) external;

    /// @notice Close the current round once its proof phase is over: elect its leader
    ///         and fix its rewards. Anyone may call. A round with no accepted
    ///         contribution is finalised at once with the previous global model.
    /// @param taskId The task.
    function closeRound(uint256 taskId) external;

    /// @notice Publish the global model aggregated from the current round, during its
    ///         aggregate phase (closing the round first if needed); finalises the round.
    /// @param taskId The task.
    /// @param round The task's current round.
    /// @param modelHash Poseidon hash of the global model's weights.
    /// @param cid Content identifier of the global model.
    function publishGlobalModel(uint256 taskId, uint256 round, bytes32 modelHash, string calldata cid) external;

    /// @notice Finalise a closed round whose aggregator missed its deadline: the
    ///         aggregator's bond is slashed and shared among the round's accepted
    ///         contributions, and the previous global model is kept. Anyone may call.
    /// @param taskId The task.
    function finalizeWithoutAggregator(uint256 taskId) external;

    /// @notice Slash `client` for a round in which it committed and never proved, once
    ///         that round's proof phase is over. Anyone may call. The slashed stake goes
    ///         to the reward pool (to the publisher once the task has ended).
    /// @param taskId The task.
    /// @param client The client.
    function slashMissedProof(uint256 taskId, address client) external;

    /// @notice Credit the reward of the sender's accepted contribution in a finalised round.
    /// @param taskId The task.
    /// @param round The round.
    function claimReward(uint256 taskId, uint256 round) external;

    /// @notice Credit the sender's stake back once the task completed or was cancelled
    ///         (after slashing a missed proof that was never punished). A client that
    ///         neither proved nor was slashed in a completed task forfeits
    ///         `missedProofPenalty` of it (the registration bond).
    /// @param taskId The task.
    function releaseStake(uint256 taskId) external;

    /// @notice Leave a running task between rounds, with no proof pending, and have the
    ///         stake credited back. A client that neither proved nor was slashed
    ///         forfeits `missedProofPenalty` of it once the task has started; before
    ///         that its slot is freed. Rewards of accepted contributions stay claimable.
    /// @param taskId The task.
    function leave(uint256 taskId) external;

    /// @notice Send the sender all its credit (rewards, released stakes, refunds).
    function withdraw() external;
}
