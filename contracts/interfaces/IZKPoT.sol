// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

/// @title IZKPoT
/// @notice Errors, events and external functions of the ZKPoT consensus contract:
///         zero-knowledge proof of training for federated learning.
/// @dev A task fixes an evaluation circuit (identified by the digest of its ezkl
///      verification-key artefact), an accuracy threshold and a round schedule in
///      blocks. Each round has a commit phase, then a proof phase; after that anyone
///      may close the round, which elects the leader, and the task's aggregator
///      publishes the next global model, which opens the next round.
interface IZKPoT {
    // ------------------------------------------------------------------ ERRORS

    /// @notice No task has this id.
    error ZKPoTUnknownTask(uint256 taskId);
    /// @notice Only the task's aggregator may do this.
    error ZKPoTNotAggregator(uint256 taskId, address caller);
    /// @notice A task parameter is out of range (named by `parameter`).
    error ZKPoTInvalidTaskParameter(string parameter);
    /// @notice The task has run all its rounds.
    error ZKPoTTaskFinished(uint256 taskId);
    /// @notice The call names a round other than the task's current one.
    error ZKPoTWrongRound(uint256 taskId, uint256 round, uint256 currentRound);
    /// @notice A commitment outside the commit phase `[opensAt, closesAt]`.
    error ZKPoTNotInCommitPhase(uint256 taskId, uint256 round, uint256 blockNumber, uint256 opensAt, uint256 closesAt);
    /// @notice A proof outside the proof phase `[opensAt, closesAt]`.
    error ZKPoTNotInProofPhase(uint256 taskId, uint256 round, uint256 blockNumber, uint256 opensAt, uint256 closesAt);
    /// @notice A commitment must not be zero (zero marks "no commitment").
    error ZKPoTEmptyCommitment(address client);
    /// @notice The sender already committed in this round.
    error ZKPoTAlreadyCommitted(uint256 taskId, uint256 round, address client);
    /// @notice The sender made no commitment in this round.
    error ZKPoTNoCommitment(uint256 taskId, uint256 round, address client);
    /// @notice The sender already submitted a proof in this round.
    error ZKPoTAlreadySubmitted(uint256 taskId, uint256 round, address client);
    /// @notice The revealed weights hash and salt do not open the sender's commitment.
    error ZKPoTCommitmentMismatch(address client, bytes32 expected, bytes32 actual);
    /// @notice A model with this weights hash was already submitted in this round.
    error ZKPoTDuplicateModel(uint256 taskId, uint256 round, bytes32 weightsHash);
    /// @notice The verification-key artefact is not the task's.
    error ZKPoTVerifyingKeyMismatch(uint256 taskId, bytes32 expected, bytes32 actual);
    /// @notice The public instances are not `[weightsHash, correctCount]`.
    error ZKPoTMalformedInstances(uint256 length);
    /// @notice The claimed count of correct predictions is not the proof's public output.
    error ZKPoTClaimMismatch(uint256 claimed, uint256 proven);
    /// @notice The proven count exceeds the size of the evaluation set.
    error ZKPoTCountOutOfRange(uint256 proven, uint256 evalSamples);
    /// @notice The verifier rejected the proof.
    error ZKPoTProofRejected(uint256 taskId, address client);
    /// @notice The round's proof phase has not ended yet.
    error ZKPoTRoundNotOver(uint256 taskId, uint256 round, uint256 blockNumber, uint256 endsAt);
    /// @notice The round is already closed.
    error ZKPoTRoundClosed(uint256 taskId, uint256 round);
    /// @notice The round is not closed yet, so no global model can be published for it.
    error ZKPoTRoundNotClosed(uint256 taskId, uint256 round);

    // ------------------------------------------------------------------ EVENTS

    /// @notice A task was opened.
    event TaskOpened(
        uint256 indexed taskId,
        address indexed aggregator,
        address verifier,
        bytes32 vkaDigest,
        bytes32 aggregatorKey,
        uint32 evalSamples,
        uint32 minCorrect,
        uint32 numRounds,
        uint32 commitBlocks,
        uint32 proofBlocks
    );
    /// @notice A round opened: commits until `commitEnd`, proofs until `proofEnd` (inclusive).
    event RoundOpened(
        uint256 indexed taskId,
        uint256 indexed round,
        bytes32 globalModelHash,
        uint256 commitEnd,
        uint256 proofEnd
    );
    /// @notice A client committed to its weights (hidden behind a salted hash).
    event Committed(uint256 indexed taskId, uint256 indexed round, address indexed client, bytes32 commitment);
    /// @notice A proof verified on chain; `accepted` if the count reached the threshold.
    event ContributionVerified(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed client,
        bytes32 weightsHash,
        uint256 correct,
        bool accepted,
        string sealedWeightsCid
    );
    /// @notice A round closed; `leader` is address(0) when no contribution was accepted.
    event RoundClosed(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed leader,
        uint256 leaderCorrect,
        uint256 acceptedCount
    );
    /// @notice The aggregator published the global model that results from `round`.
    event GlobalModelPublished(uint256 indexed taskId, uint256 indexed round, bytes32 modelHash, string cid);
    /// @notice The task ran its last round.
    event TaskCompleted(uint256 indexed taskId, bytes32 finalModelHash);

    // ------------------------------------------------------------------ FUNCTIONS

    /// @notice Open a task; round 1 opens at once from the initial global model.
    /// @param verifier The ezkl reusable Halo2 verifier holding the task's registered key.
    /// @param vkaDigest keccak256 of the task's verification-key artefact words.
    /// @param aggregatorKey X25519 public key to which clients encrypt their weights.
    /// @param evalSamples Size of the evaluation set bound into the circuit.
    /// @param minCorrect Correct predictions a contribution needs to be accepted.
    /// @param numRounds Number of rounds.
    /// @param commitBlocks Length of each round's commit phase, in blocks.
    /// @param proofBlocks Length of each round's proof phase, in blocks.
    /// @param initialModelHash Poseidon hash of the initial global model's weights.
    /// @param initialModelCid Content identifier of the initial global model.
    /// @return taskId The new task's id (ids start at 1).
    function openTask(
        address verifier,
        bytes32 vkaDigest,
        bytes32 aggregatorKey,
        uint32 evalSamples,
        uint32 minCorrect,
        uint32 numRounds,
        uint32 commitBlocks,
        uint32 proofBlocks,
        bytes32 initialModelHash,
        string calldata initialModelCid
    ) external returns (uint256 taskId);

    /// @notice Commit to this round's weights as
    ///         keccak256(abi.encode(sender, taskId, round, weightsHash, salt)).
    /// @param taskId The task.
    /// @param round The task's current round.
    /// @param commitment The salted commitment.
    function commit(uint256 taskId, uint256 round, bytes32 commitment) external;

    /// @notice A proof of accuracy and what goes with it.
    /// @param proof The ezkl proof bytes.
    /// @param instances The public instances `[weightsHash, correctCount]`.
    /// @param vka The task's verification-key artefact.
    /// @param claimedCorrect The count the client claims; must equal `instances[1]`.
    /// @param salt The salt of the sender's commitment.
    /// @param sealedWeightsCid CID of the weights encrypted to the aggregator's key.
    struct Submission {
        bytes proof;
        uint256[] instances;
        bytes32[] vka;
        uint256 claimedCorrect;
        bytes32 salt;
        string sealedWeightsCid;
    }

    /// @notice Submit a proof that the committed weights classify `claimedCorrect`
    ///         evaluation samples correctly.
    /// @param taskId The task.
    /// @param round The task's current round.
    /// @param submission The proof, its public instances and the commitment's opening.
    function submitProof(uint256 taskId, uint256 round, Submission calldata submission) external;

    /// @notice Close the current round once its proof phase is over and elect its leader.
    /// @param taskId The task.
    function closeRound(uint256 taskId) external;

    /// @notice Publish the global model aggregated from a closed round; opens the next round.
    /// @param taskId The task.
    /// @param round The closed round the model results from.
    /// @param modelHash Poseidon hash of the global model's weights.
    /// @param cid Content identifier of the global model.
    function publishGlobalModel(uint256 taskId, uint256 round, bytes32 modelHash, string calldata cid) external;
}
