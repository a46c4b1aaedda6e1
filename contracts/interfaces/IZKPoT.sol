// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoTTypes} from "./IZKPoTTypes.sol";

/// @title IZKPoT
/// @notice Types, errors, events and external functions of the ZKPoT consensus
///         contract: zero-knowledge proof of training for federated learning.
/// @dev Life of a task (docs/protocol.md has the diagram):
///      Registration (clients stake) -> rounds 1..numRounds -> Completed, or
///      Registration -> Cancelled (publisher only, before the start block).
///      Each round: Commit -> Reveal -> Prove (-> Dispute, optimistic tasks) ->
///      Aggregate, all in blocks. Once the
///      commitments are locked the publisher reveals the round's evaluation batch,
///      bound at the task's creation; proofs must be made on it. After the proof
///      phase anyone closes the round (leader elected, rewards fixed); the aggregator
///      publishes the new global model before the aggregate phase ends, or anyone
///      finalises the round without it (aggregator slashed, previous model kept).
///      Each finalised round appends a record to the task's hash chain.
interface IZKPoT is IZKPoTTypes {
    // ------------------------------------------------------------------ FUNCTIONS

    /// @notice Register a circuit's verification-key artefact, after checking that it is
    ///         canonical (every field element reduced, every pointer word free of
    ///         ignored bits), so that one circuit has one digest. The artefact is kept
    ///         once, in the `circuits` registry (and registered on the verifier), and
    ///         proofs name it by digest. Fixes the length of the circuit's proofs.
    ///         Anyone may call; registering an artefact twice changes nothing.
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

    /// @notice Reveal the round's evaluation batch, in the reveal window after its
    ///         commit phase: the batch's polynomial commitment as the circuit's proofs
    ///         begin with it, and the salt, must open the round's entry of
    ///         `TaskConfig.batchCommitments`. Publisher only.
    /// @param taskId The task.
    /// @param round The task's current round.
    /// @param batchCommitment The batch's polynomial commitment (KZG points, as in a proof).
    /// @param salt The salt of the round's batch commitment.
    /// @param batchCid Content identifier of the batch (samples and labels).
    function revealBatch(
        uint256 taskId,
        uint256 round,
        bytes calldata batchCommitment,
        bytes32 salt,
        string calldata batchCid
    ) external;

    /// @notice Submit a proof that the committed weights classify `claimedCorrect`
    ///         samples of the round's revealed evaluation batch correctly; it is
    ///         verified at once under the task's key artefact. In an optimistic task
    ///         this is allowed too, and the contribution cannot be disputed.
    /// @param taskId The task.
    /// @param round The task's current round.
    /// @param submission The proof, its public instances and the commitment's opening.
    function submitProof(uint256 taskId, uint256 round, Submission calldata submission) external;

    /// @notice Optimistic tasks: claim, during the proof phase, that a proof of
    ///         `claim.claimedCorrect` exists for the committed weights, without running the
    ///         verifier. The opening of the commitment, the model's freshness and the
    ///         count are checked as for `submitProof`; the proof's hash is recorded and
    ///         its bytes go to the content store. Anyone may dispute it until the
    ///         round's `disputeEnd`.
    /// @param taskId The task.
    /// @param round The task's current round.
    /// @param claim The weights hash, the proof's hash and CID, the count and the opening.
    function submitClaim(uint256 taskId, uint256 round, Claim calldata claim) external;

    /// @notice Optimistic tasks: dispute `client`'s claim in the current round, from its
    ///         submission to the round's `disputeEnd`, posting `disputeBond`. With the
    ///         proof's bytes (they must hash to the claim's `proofHash`) the contract
    ///         judges at once: a proof that is not the task's circuit's valid proof of
    ///         the claim (on the round's batch, for the committed weights) strikes the
    ///         contribution and slashes the client's whole stake: half of it, with the
    ///         bond, is credited to the sender and the rest goes to the reward pool (so
    ///         a cheater that disputes itself from another account still loses half);
    ///         a valid one stands, can no longer be disputed, and the bond is credited
    ///         to the client. Without bytes (nobody could fetch
    ///         them) the claim is challenged: see `settleChallenge`.
    /// @param taskId The task.
    /// @param round The task's current round.
    /// @param client The client whose claim is disputed.
    /// @param proof The claimed proof's bytes, or empty to challenge.
    function dispute(uint256 taskId, uint256 round, address client, bytes calldata proof) external payable;

    /// @notice Optimistic tasks: settle a challenge to `client`'s claim. Until the round's
    ///         `answerEnd` anyone may bring the proof's bytes, which are judged as in
    ///         `dispute` (the bond goes to the client if valid); after it, the claim is
    ///         struck for a proof nobody made available, as an invalid one.
    /// @param taskId The task.
    /// @param round The task's current round.
    /// @param client The challenged client.
    /// @param proof The claimed proof's bytes (ignored after `answerEnd`).
    function settleChallenge(uint256 taskId, uint256 round, address client, bytes calldata proof) external;

    /// @notice Close the current round once its proof phase (optimistic tasks: its
    ///         dispute window, with no challenge open) is over: elect its leader and fix
    ///         its rewards. Anyone may call. A round with no accepted contribution is
    ///         finalised at once with the previous global model. A round whose batch
    ///         was not revealed may be closed as soon as its reveal window is over:
    ///         `aggregatorPenalty` (at most the bond left) is then shared among its
    ///         committed clients.
    /// @param taskId The task.
    /// @param standing Optimistic tasks: the clients of the round's accepted
    ///        contributions that stand, in submission order (from the round's
    ///        events); the leader and the contributions root are computed over them.
    ///        Checked complete and exact. Empty in immediate mode.
    function closeRound(uint256 taskId, address[] calldata standing) external;

    /// @notice Publish the global model aggregated from the current round, with the
    ///         proof that it is the FedAvg of exactly the round's accepted
    ///         contributions, during its aggregate phase (closing the round first if
    ///         needed; an optimistic round must be closed with `closeRound`); finalises
    ///         the round. Anything else reverts (`ZKPoTWrongAcceptedList`,
    ///         `ZKPoTAggregateInputMismatch`, `ZKPoTAggregateModelMismatch`,
    ///         `ZKPoTAggregateWrongMask`, `ZKPoTNotTheAverage`,
    ///         `ZKPoTInvalidAggregationProof`, ...): with no valid aggregate by the
    ///         deadline, the round falls back to the previous model and the aggregator
    ///         is penalised (`finalizeWithoutAggregator`).
    /// @param taskId The task.
    /// @param round The task's current round.
    /// @param aggregate The global model, the accepted contributions it averages and
    ///        the aggregation proof (see `Aggregate`).
    function publishGlobalModel(uint256 taskId, uint256 round, Aggregate calldata aggregate) external;

    /// @notice Finalise a closed round whose aggregator missed its deadline: the
    ///         aggregator's bond is slashed and shared among the round's accepted
    ///         contributions, and the previous global model is kept. Anyone may call.
    /// @param taskId The task.
    function finalizeWithoutAggregator(uint256 taskId) external;

    /// @notice Slash `client` for a round in which it committed and never proved, once
    ///         that round's proof phase is over. Anyone may call. The slashed stake goes
    ///         to the reward pool (to the publisher once the task has ended). No
    ///         client is slashed for a round whose batch was never revealed.
    /// @param taskId The task.
    /// @param client The client.
    function slashMissedProof(uint256 taskId, address client) external;

    /// @notice Credit the reward of the sender's accepted contribution in a finalised
    ///         round, or its share of the publisher's penalty for a round whose batch
    ///         was never revealed after it committed.
    /// @param taskId The task.
    /// @param round The round.
    function claimReward(uint256 taskId, uint256 round) external;

    /// @notice Credit the sender's stake back once the task completed or was cancelled
    ///         (after slashing a missed proof that was never punished). A client that
    ///         neither proved nor was slashed in a completed task forfeits
    ///         `missedProofPenalty` of it (the registration bond).
    /// @param taskId The task.
    function releaseStake(uint256 taskId) external;

    /// @notice Leave a running task between rounds, with no proof pending (nor a claim
    ///         that can still be disputed), and have the stake credited back. A client that neither proved nor was slashed
    ///         forfeits `missedProofPenalty` of it once the task has started; before
    ///         that its slot is freed. Rewards of accepted contributions stay claimable.
    /// @param taskId The task.
    function leave(uint256 taskId) external;

    /// @notice Add `msg.value` to the sender's stake in a running task: a client slashed
    ///         below `minStake` takes part again from the next round it commits in.
    /// @param taskId The task.
    function topUpStake(uint256 taskId) external payable;

    /// @notice Send the sender all its credit (rewards, released stakes, refunds).
    function withdraw() external;

    // ------------------------------------------------------------------ VIEWS

    /// @notice ezkl's reusable Halo2 verifier, fixed at deployment: every task's proofs
    ///         are checked by this code, under the task's registered key artefact.
    /// @return The verifier's address.
    function verifier() external view returns (address);

    /// @notice The registry that keeps every registered key artefact once and verifies
    ///         proofs under it, deployed with this contract.
    /// @return The registry's address.
    function circuits() external view returns (address);

    /// @notice The proof length of a registered circuit.
    /// @param vkaDigest The circuit's key artefact digest.
    /// @return The length in bytes, or zero if the artefact was never registered.
    function circuitProofLength(bytes32 vkaDigest) external view returns (uint256);

    /// @notice Number of tasks created so far (the last task id).
    /// @return The count.
    function taskCount() external view returns (uint256);

    /// @notice A task's parameters and state.
    /// @param taskId The task.
    /// @return The task.
    function getTask(uint256 taskId) external view returns (Task memory);

    /// @notice A client's registration and stake in a task.
    /// @param taskId The task.
    /// @param client The client.
    /// @return The membership (all zero if not registered).
    function getMember(uint256 taskId, address client) external view returns (Member memory);

    /// @notice A round's schedule, outcome and rewards.
    /// @param taskId The task.
    /// @param round The round.
    /// @return The round (all zero for a round not opened yet).
    function getRound(uint256 taskId, uint256 round) external view returns (Round memory);

    /// @notice A client's commitment and contribution in a round.
    /// @param taskId The task.
    /// @param round The round.
    /// @param client The client.
    /// @return The contribution (all zero if the client did not commit).
    function getContribution(uint256 taskId, uint256 round, address client) external view returns (Contribution memory);

    /// @notice Where the task stands at the current block.
    /// @param taskId The task.
    /// @return The phase.
    function phase(uint256 taskId) external view returns (Phase);

    /// @notice The stored hash of a round's record (zero until the round is finalised).
    /// @param taskId The task.
    /// @param round The round (0: the genesis record).
    /// @return The record hash.
    function recordHash(uint256 taskId, uint256 round) external view returns (bytes32);

    /// @notice The hash of a round record, as chained and stored.
    /// @param record The record.
    /// @return keccak256(abi.encode(record)).
    function recordHashOf(RoundRecord calldata record) external pure returns (bytes32);

    /// @notice The commitment a client makes to `weightsHash` with `salt`.
    /// @param client The committing account.
    /// @param taskId The task.
    /// @param round The round.
    /// @param weightsHash Weights hash: keccak256 of the KZG commitment to the weights a proof begins with.
    /// @param salt A random 32-byte salt.
    /// @return The commitment, keccak256(abi.encode(client, taskId, round, weightsHash, salt)).
    function commitmentOf(address client, uint256 taskId, uint256 round, bytes32 weightsHash, bytes32 salt)
        external
        pure
        returns (bytes32);

    /// @notice The first block in which a proof of these weights verified under a
    ///         circuit (zero: never). A client checks it before committing: a model
    ///         revealed before its commitment cannot be its contribution.
    /// @param vkaDigest The circuit's key artefact digest.
    /// @param weightsHash Weights hash (keccak256 of the weights' KZG commitment).
    /// @return The block number, or zero.
    function modelSubmittedAt(bytes32 vkaDigest, bytes32 weightsHash) external view returns (uint256);

    /// @notice The first block in which a model was published as a global model (a
    ///         task's initial model or an aggregate) under a circuit (zero: never).
    /// @param vkaDigest The circuit's key artefact digest.
    /// @param modelHash Weights hash of the model (keccak256 of its KZG commitment).
    /// @return The block number, or zero.
    function globalModelPublishedAt(bytes32 vkaDigest, bytes32 modelHash) external view returns (uint256);

    /// @notice Whether a weights hash was already submitted in a task.
    /// @param taskId The task.
    /// @param weightsHash Weights hash (keccak256 of the weights' KZG commitment).
    /// @return True once a proof of these weights verified in the task.
    function modelUsedInTask(uint256 taskId, bytes32 weightsHash) external view returns (bool);

    /// @notice What `account` may withdraw.
    /// @param account The account.
    /// @return The credit, in wei.
    function creditOf(address account) external view returns (uint256);
}
