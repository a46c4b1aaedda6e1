// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoT} from "./interfaces/IZKPoT.sol";
import {Halo2VerifierAdapter} from "./verifier/Halo2VerifierAdapter.sol";
import {KeyArtefact} from "./verifier/KeyArtefact.sol";

/// @title ZKPoT
/// @notice Zero-knowledge proof-of-training consensus for federated learning.
///         Staked clients prove with a zk-SNARK that the model they committed to
///         classifies a number of the task's evaluation samples correctly; the
///         contract accepts contributions whose proof verifies, elects each round's
///         leader by verified accuracy, pays rewards from the task's pool, slashes
///         provable faults and keeps a hash chain of round records. Neither weights
///         nor data ever reach the chain.
/// @dev Leader tie-break: the higher count wins, and among equal counts the lower
///      keccak256(abi.encode(seed, client)), where the round's seed derives from the
///      hash of its commit-end block: no client can choose it (addresses are fixed at
///      registration, weights at commitment), and the outcome does not depend on
///      transaction order. There is no
///      loop anywhere: missed proofs are punished one client at a time
///      (`slashMissedProof`, or on the client's next commit or stake release), and
///      rewards are claimed one contribution at a time. ETH leaves the contract only
///      in `withdraw`, after the sender's credit is zeroed.
contract ZKPoT is IZKPoT {
    // ----------------------------------------------------------------- STORAGE

    /// @notice A task's fixed parameters (first block) and running state (second block).
    struct Task {
        address publisher;
        address aggregator;
        bytes32 vkaDigest;
        bytes32 circuitKey;
        uint32 proofLength;
        uint32 evalSamples;
        uint32 minCorrect;
        uint32 maxClients;
        uint32 numRounds;
        uint32 commitBlocks;
        uint32 proofBlocks;
        uint32 aggregateBlocks;
        uint16 leaderShareBps;
        uint64 startBlock;
        uint256 minStake;
        uint256 missedProofPenalty;
        uint256 aggregatorPenalty;
        TaskStatus status;
        uint32 currentRound;
        uint32 clientCount;
        uint256 rewardPool;
        uint256 aggregatorBond;
        uint256 totalStake;
        uint256 unclaimedRewards;
        bytes32 globalModelHash;
        bytes32 headRecord;
        string globalModelCid;
    }

    /// @notice A round's schedule, outcome and rewards.
    struct Round {
        RoundStatus status;
        uint64 openBlock;
        uint64 commitEnd;
        uint64 proofEnd;
        uint64 aggregateEnd;
        address leader;
        uint32 leaderCorrect;
        uint32 acceptedCount;
        uint32 committedCount;
        uint32 provedCount;
        bytes32 contributionsRoot;
        uint256 leaderBonus;
        uint256 contributorReward;
        bytes32 tieBreakSeed;
    }

    /// @notice A registered client of a task. `bondSettled` once one of its proofs verified
    ///         or it was slashed for a missed proof: then leaving forfeits nothing more.
    struct Member {
        bool registered;
        bool bondSettled;
        uint32 pendingRound;
        uint256 stake;
    }

    /// @notice A client's commitment and contribution in a round.
    struct Contribution {
        bytes32 commitment;
        bytes32 weightsHash;
        uint32 correct;
        bool submitted;
        bool accepted;
        bool rewardClaimed;
    }

    /// @dev Number of public instances of the evaluation circuit: weights hash, count.
    uint256 private constant NUM_INSTANCES = 2;
    uint256 private constant BPS = 10_000;

    /// @notice ezkl's reusable Halo2 verifier, fixed at deployment: every task's proofs
    ///         are checked by this code, under the task's registered key artefact.
    address public immutable verifier;

    uint256 private _taskCount;
    mapping(uint256 taskId => Task) private _tasks;
    mapping(uint256 taskId => mapping(uint256 round => Round)) private _rounds;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address client => Contribution))) private _contributions;

    /// @notice A registered key artefact: the circuit it keys (its word 0, the vk digest
    ///         that opens every proof's transcript, so every artefact that accepts the
    ///         circuit's proofs has the same one) and the length of its proofs.
    struct Circuit {
        bytes32 key;
        uint32 proofLength;
    }

    /// @dev Registered key artefacts (proofLength zero: not registered).
    mapping(bytes32 vkaDigest => Circuit) private _circuits;
    /// @dev First block in which a weights hash was revealed by a verified proof, and
    ///      in which a model hash was published as a global model, under a circuit
    ///      (by circuit key, not artefact digest: no second artefact of a circuit can
    ///      open a second namespace for replays).
    ///      A contribution is refused only for a hash revealed no later than its
    ///      round's commit end: its sender could have copied that one, while nothing
    ///      revealed afterwards can reach back and void a commitment already locked.
    mapping(bytes32 circuitKey => mapping(bytes32 weightsHash => uint64 blockNumber)) private _submittedAt;
    mapping(bytes32 circuitKey => mapping(bytes32 modelHash => uint64 blockNumber)) private _publishedAt;
    /// @dev Weights hashes already submitted in a task (two members of one task never
    ///      share a model, whenever it was revealed).
    mapping(uint256 taskId => mapping(bytes32 weightsHash => bool)) private _usedInTask;
    mapping(uint256 taskId => mapping(address client => Member)) private _members;
    mapping(uint256 taskId => mapping(uint256 round => bytes32)) private _recordHashes;
    mapping(address account => uint256) private _credits;

    /// @param verifier_ ezkl's reusable Halo2 verifier (contracts/verifier/).
    constructor(address verifier_) {
        if (verifier_.code.length == 0) revert ZKPoTVerifierWithoutCode(verifier_);
        verifier = verifier_;
    }

    // ----------------------------------------------------------------- TASKS

    /// @inheritdoc IZKPoT
    function registerCircuit(bytes32[] calldata vka) external returns (bytes32 vkaDigest) {
        uint256 proofLength = KeyArtefact.checkCanonical(vka);
        vkaDigest = keccak256(abi.encodePacked(vka));
        if (_circuits[vkaDigest].proofLength != 0) return vkaDigest;
        // Safe cast: a proof of KeyArtefact's bounded layout is far below 2^32 bytes.
        // forge-lint: disable-next-line(unsafe-typecast)
        _circuits[vkaDigest] = Circuit({key: vka[0], proofLength: uint32(proofLength)});
        emit CircuitRegistered(vkaDigest, proofLength, msg.sender);
        // Interaction last: the verifier keeps its own registry of artefacts.
        Halo2VerifierAdapter.register(verifier, vka);
    }

    /// @inheritdoc IZKPoT
    function createTask(TaskConfig calldata config) external payable returns (uint256 taskId) {
        _checkConfig(config);
        Circuit memory circuit = _circuits[config.vkaDigest];
        if (circuit.proofLength == 0) revert ZKPoTUnknownCircuit(config.vkaDigest);
        if (msg.value < config.aggregatorBond) revert ZKPoTInsufficientFunding(msg.value, config.aggregatorBond);

        taskId = ++_taskCount;
        Task storage t = _tasks[taskId];
        t.publisher = msg.sender;
        t.aggregator = config.aggregator;
        t.vkaDigest = config.vkaDigest;
        t.circuitKey = circuit.key;
        t.proofLength = circuit.proofLength;
        t.evalSamples = config.evalSamples;
        t.minCorrect = config.minCorrect;
        t.maxClients = config.maxClients;
        t.numRounds = config.numRounds;
        t.commitBlocks = config.commitBlocks;
        t.proofBlocks = config.proofBlocks;
        t.aggregateBlocks = config.aggregateBlocks;
        t.leaderShareBps = config.leaderShareBps;
        t.startBlock = uint64(block.number + config.registrationBlocks);
        t.minStake = config.minStake;
        t.missedProofPenalty = config.missedProofPenalty;
        t.aggregatorPenalty = config.aggregatorPenalty;
        t.status = TaskStatus.Active;
        t.aggregatorBond = config.aggregatorBond;
        t.rewardPool = msg.value - config.aggregatorBond;
        t.globalModelHash = config.initialModelHash;
        t.globalModelCid = config.initialModelCid;
        _markPublished(circuit.key, config.initialModelHash);

        emit TaskCreated(taskId, msg.sender, config, t.rewardPool, t.startBlock);
        RoundRecord memory genesis = RoundRecord({
            taskId: taskId,
            round: 0,
            prevRecordHash: bytes32(0),
            leader: address(0),
            leaderCorrect: 0,
            acceptedCount: 0,
            contributionsRoot: bytes32(0),
            globalModelHash: config.initialModelHash,
            globalModelCid: config.initialModelCid,
            aggregator: msg.sender
        });
        _appendRecord(t, genesis);
        _openRound(taskId, t, t.startBlock);
    }

    /// @inheritdoc IZKPoT
    function cancelTask(uint256 taskId) external {
        Task storage t = _activeTask(taskId);
        if (msg.sender != t.publisher) revert ZKPoTNotPublisher(taskId, msg.sender);
        if (block.number >= t.startBlock) revert ZKPoTRegistrationClosed(taskId, block.number, t.startBlock);

        uint256 refund = t.rewardPool + t.aggregatorBond;
        t.status = TaskStatus.Cancelled;
        t.rewardPool = 0;
        t.aggregatorBond = 0;
        _credits[t.publisher] += refund;
        emit TaskCancelled(taskId, refund);
    }

    /// @inheritdoc IZKPoT
    function register(uint256 taskId) external payable {
        Task storage t = _activeTask(taskId);
        if (block.number >= t.startBlock) revert ZKPoTRegistrationClosed(taskId, block.number, t.startBlock);
        Member storage m = _members[taskId][msg.sender];
        if (m.registered) revert ZKPoTAlreadyRegistered(taskId, msg.sender);
        if (t.clientCount >= t.maxClients) revert ZKPoTTaskFull(taskId, t.maxClients);
        if (msg.value < t.minStake) revert ZKPoTStakeTooLow(msg.value, t.minStake);

        m.registered = true;
        m.stake = msg.value;
        t.clientCount += 1;
        t.totalStake += msg.value;
        emit ClientRegistered(taskId, msg.sender, msg.value);
    }

    // ----------------------------------------------------------------- ROUNDS

    /// @inheritdoc IZKPoT
    function commit(uint256 taskId, uint256 round, bytes32 commitment) external {
        (Task storage t, Round storage r) = _openRoundOf(taskId, round);
        if (block.number < r.openBlock || block.number > r.commitEnd) {
            revert ZKPoTNotInCommitPhase(taskId, round, block.number, r.openBlock, r.commitEnd);
        }
        if (commitment == bytes32(0)) revert ZKPoTEmptyCommitment(msg.sender);
        Contribution storage c = _contributions[taskId][round][msg.sender];
        if (c.commitment != bytes32(0)) revert ZKPoTAlreadyCommitted(taskId, round, msg.sender);
        // A missed proof in an earlier round is punished before eligibility is judged.
        _settleMissedProof(taskId, t, msg.sender);
        Member storage m = _members[taskId][msg.sender];
        if (!m.registered || m.stake < t.minStake) revert ZKPoTNotEligible(taskId, msg.sender, m.stake);

        c.commitment = commitment;
        // Safe cast: rounds are numbered up to numRounds, a uint32.
        // forge-lint: disable-next-line(unsafe-typecast)
        m.pendingRound = uint32(round);
        r.committedCount += 1;
        emit Committed(taskId, round, msg.sender, commitment);
    }

    /// @inheritdoc IZKPoT
    function submitProof(uint256 taskId, uint256 round, Submission calldata submission) external {
        (Task storage t, Round storage r) = _openRoundOf(taskId, round);
        if (block.number <= r.commitEnd || block.number > r.proofEnd) {
            revert ZKPoTNotInProofPhase(taskId, round, block.number, uint256(r.commitEnd) + 1, r.proofEnd);
        }
        Contribution storage c = _contributions[taskId][round][msg.sender];
        bytes32 weightsHash = _checkOpening(taskId, round, c, submission.instances, submission.salt);
        _checkFresh(taskId, round, t.circuitKey, r.commitEnd, weightsHash);
        uint256 proven = submission.instances[1];
        if (submission.claimedCorrect != proven) revert ZKPoTClaimMismatch(submission.claimedCorrect, proven);
        if (proven > t.evalSamples) revert ZKPoTCountOutOfRange(proven, t.evalSamples);
        _checkProof(t, taskId, submission);

        // Safe cast: proven <= evalSamples, itself a uint32 (checked above).
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 count = uint32(proven);
        bool accepted = count >= t.minCorrect;
        c.submitted = true;
        c.weightsHash = weightsHash;
        c.correct = count;
        c.accepted = accepted;
        _usedInTask[taskId][weightsHash] = true;
        if (_submittedAt[t.circuitKey][weightsHash] == 0) {
            _submittedAt[t.circuitKey][weightsHash] = uint64(block.number);
        }
        Member storage m = _members[taskId][msg.sender];
        m.pendingRound = 0;
        m.bondSettled = true;
        r.provedCount += 1;
        if (r.tieBreakSeed == bytes32(0)) r.tieBreakSeed = _drawTieBreakSeed(taskId, round, r.commitEnd);
        if (accepted) _recordAccepted(r, msg.sender, weightsHash, count);
        emit ContributionVerified(taskId, round, msg.sender, weightsHash, proven, accepted, submission.sealedWeightsCid);
    }

    /// @inheritdoc IZKPoT
    function closeRound(uint256 taskId) external {
        Task storage t = _activeTask(taskId);
        uint256 round = t.currentRound;
        Round storage r = _rounds[taskId][round];
        if (r.status != RoundStatus.Open) revert ZKPoTWrongRoundStatus(taskId, round, r.status);
        if (block.number <= r.proofEnd) revert ZKPoTRoundNotOver(taskId, round, block.number, r.proofEnd);

        _close(taskId, t, round, r);
        if (r.acceptedCount == 0) _finalize(taskId, t, round, r, t.globalModelHash, t.globalModelCid, address(0));
    }

    /// @inheritdoc IZKPoT
    function publishGlobalModel(uint256 taskId, uint256 round, bytes32 modelHash, string calldata cid) external {
        Task storage t = _activeTask(taskId);
        if (msg.sender != t.aggregator) revert ZKPoTNotAggregator(taskId, msg.sender);
        if (round != t.currentRound) revert ZKPoTWrongRound(taskId, round, t.currentRound);
        Round storage r = _rounds[taskId][round];
        if (block.number <= r.proofEnd || block.number > r.aggregateEnd) {
            revert ZKPoTNotInAggregatePhase(taskId, round, block.number, uint256(r.proofEnd) + 1, r.aggregateEnd);
        }
        if (r.acceptedCount == 0) revert ZKPoTNothingToAggregate(taskId, round);
        if (modelHash == bytes32(0) || bytes(cid).length == 0) revert ZKPoTEmptyModel();

        // Open or Closed here: a round with an accepted contribution is finalised only below.
        if (r.status == RoundStatus.Open) _close(taskId, t, round, r);
        _finalize(taskId, t, round, r, modelHash, cid, msg.sender);
    }

    /// @inheritdoc IZKPoT
    function finalizeWithoutAggregator(uint256 taskId) external {
        Task storage t = _activeTask(taskId);
        uint256 round = t.currentRound;
        Round storage r = _rounds[taskId][round];
        if (r.status != RoundStatus.Closed) revert ZKPoTWrongRoundStatus(taskId, round, r.status);
        if (block.number <= r.aggregateEnd) {
            revert ZKPoTAggregationNotOverdue(taskId, round, block.number, r.aggregateEnd);
        }

        // The round has accepted contributions (else it was finalised at close): the
        // clients whose work went unused share the penalty.
        uint256 penalty = _min(t.aggregatorPenalty, t.aggregatorBond);
        t.aggregatorBond -= penalty;
        _shareAmongAccepted(t, r, penalty);
        emit AggregatorSlashed(taskId, round, t.aggregator, penalty, r.contributorReward);
        _finalize(taskId, t, round, r, t.globalModelHash, t.globalModelCid, address(0));
    }

    // ----------------------------------------------------------------- STAKES AND REWARDS

    /// @inheritdoc IZKPoT
    function slashMissedProof(uint256 taskId, address client) external {
        Task storage t = _task(taskId);
        if (!_settleMissedProof(taskId, t, client)) revert ZKPoTNoFault(taskId, client);
    }

    /// @inheritdoc IZKPoT
    function claimReward(uint256 taskId, uint256 round) external {
        Task storage t = _task(taskId);
        Round storage r = _rounds[taskId][round];
        Contribution storage c = _contributions[taskId][round][msg.sender];
        if (!c.accepted || r.status != RoundStatus.Finalized) revert ZKPoTNoReward(taskId, round, msg.sender);
        if (c.rewardClaimed) revert ZKPoTAlreadyClaimed(taskId, round, msg.sender);

        uint256 amount = r.contributorReward + (r.leader == msg.sender ? r.leaderBonus : 0);
        c.rewardClaimed = true;
        t.unclaimedRewards -= amount;
        _credits[msg.sender] += amount;
        emit RewardClaimed(taskId, round, msg.sender, amount);
    }

    /// @inheritdoc IZKPoT
    function releaseStake(uint256 taskId) external {
        Task storage t = _task(taskId);
        if (t.status == TaskStatus.Active) revert ZKPoTStakeLocked(taskId, t.status);
        _settleMissedProof(taskId, t, msg.sender);
        _releaseStake(taskId, t, _members[taskId][msg.sender]);
    }

    /// @inheritdoc IZKPoT
    function leave(uint256 taskId) external {
        Task storage t = _activeTask(taskId);
        Member storage m = _members[taskId][msg.sender];
        if (!m.registered) revert ZKPoTNotRegistered(taskId, msg.sender);
        _settleMissedProof(taskId, t, msg.sender);
        if (m.pendingRound != 0) revert ZKPoTProofPending(taskId, msg.sender, m.pendingRound);

        m.registered = false;
        // Before round 1 the slot is free again for someone who will take part.
        t.clientCount -= 1;
        emit ClientLeft(taskId, msg.sender);
        _releaseStake(taskId, t, m);
    }

    /// @inheritdoc IZKPoT
    function withdraw() external {
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert ZKPoTNothingToWithdraw(msg.sender);
        // Effects before the interaction: a re-entrant call finds the credit spent.
        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert ZKPoTTransferFailed(msg.sender, amount);
    }

    // ----------------------------------------------------------------- VIEWS

    /// @notice The commitment a client makes to `weightsHash` with `salt`.
    /// @param client The committing account.
    /// @param taskId The task.
    /// @param round The round.
    /// @param weightsHash Poseidon hash of the weights (the proof's instances[0]).
    /// @param salt A random 32-byte salt.
    /// @return The commitment, keccak256(abi.encode(client, taskId, round, weightsHash, salt)).
    function commitmentOf(address client, uint256 taskId, uint256 round, bytes32 weightsHash, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(client, taskId, round, weightsHash, salt));
    }

    /// @notice The hash of a round record, as chained and stored.
    /// @param record The record.
    /// @return keccak256(abi.encode(record)).
    function recordHashOf(RoundRecord memory record) public pure returns (bytes32) {
        return keccak256(abi.encode(record));
    }

    /// @notice The first block in which a proof of these weights verified under a
    ///         circuit (zero: never). A client checks it before committing: a model
    ///         revealed before its commitment cannot be its contribution.
    /// @param vkaDigest The circuit's key artefact digest.
    /// @param weightsHash Poseidon hash of the weights.
    /// @return The block number, or zero.
    function modelSubmittedAt(bytes32 vkaDigest, bytes32 weightsHash) external view returns (uint256) {
        return _submittedAt[_circuits[vkaDigest].key][weightsHash];
    }

    /// @notice The first block in which a model was published as a global model (a
    ///         task's initial model or an aggregate) under a circuit (zero: never).
    /// @param vkaDigest The circuit's key artefact digest.
    /// @param modelHash Poseidon hash of the model's weights.
    /// @return The block number, or zero.
    function globalModelPublishedAt(bytes32 vkaDigest, bytes32 modelHash) external view returns (uint256) {
        return _publishedAt[_circuits[vkaDigest].key][modelHash];
    }

    /// @notice Whether a weights hash was already submitted in a task.
    /// @param taskId The task.
    /// @param weightsHash Poseidon hash of the weights.
    /// @return True once a proof of these weights verified in the task.
    function modelUsedInTask(uint256 taskId, bytes32 weightsHash) external view returns (bool) {
        return _usedInTask[taskId][weightsHash];
    }

    /// @notice The proof length of a registered circuit.
    /// @param vkaDigest The circuit's key artefact digest.
    /// @return The length in bytes, or zero if the artefact was never registered.
    function circuitProofLength(bytes32 vkaDigest) external view returns (uint256) {
        return _circuits[vkaDigest].proofLength;
    }

    /// @notice Number of tasks created so far (the last task id).
    /// @return The count.
    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    /// @notice A task's parameters and state.
    /// @param taskId The task.
    /// @return The task.
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _task(taskId);
    }

    /// @notice A round's schedule, outcome and rewards.
    /// @param taskId The task.
    /// @param round The round.
    /// @return The round (all zero for a round not opened yet).
    function getRound(uint256 taskId, uint256 round) external view returns (Round memory) {
        _task(taskId);
        return _rounds[taskId][round];
    }

    /// @notice A client's commitment and contribution in a round.
    /// @param taskId The task.
    /// @param round The round.
    /// @param client The client.
    /// @return The contribution (all zero if the client did not commit).
    function getContribution(uint256 taskId, uint256 round, address client)
        external
        view
        returns (Contribution memory)
    {
        _task(taskId);
        return _contributions[taskId][round][client];
    }

    /// @notice A client's registration and stake in a task.
    /// @param taskId The task.
    /// @param client The client.
    /// @return The membership (all zero if not registered).
    function getMember(uint256 taskId, address client) external view returns (Member memory) {
        _task(taskId);
        return _members[taskId][client];
    }

    /// @notice The stored hash of a round's record (zero until the round is finalised).
    /// @param taskId The task.
    /// @param round The round (0: the genesis record).
    /// @return The record hash.
    function recordHash(uint256 taskId, uint256 round) external view returns (bytes32) {
        _task(taskId);
        return _recordHashes[taskId][round];
    }

    /// @notice What `account` may withdraw.
    /// @param account The account.
    /// @return The credit, in wei.
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    /// @notice Where the task stands at the current block.
    /// @param taskId The task.
    /// @return The phase.
    function phase(uint256 taskId) external view returns (Phase) {
        Task storage t = _task(taskId);
        if (t.status == TaskStatus.Completed) return Phase.Completed;
        if (t.status == TaskStatus.Cancelled) return Phase.Cancelled;
        Round storage r = _rounds[taskId][t.currentRound];
        if (block.number < r.openBlock) return Phase.Registration;
        if (block.number <= r.commitEnd) return Phase.Commit;
        if (block.number <= r.proofEnd) return Phase.Prove;
        if (block.number <= r.aggregateEnd) return Phase.Aggregate;
        return Phase.AggregationOverdue;
    }

    // ----------------------------------------------------------------- INTERNAL

    function _checkConfig(TaskConfig calldata c) private pure {
        if (c.vkaDigest == bytes32(0)) revert ZKPoTInvalidTaskParameter("vkaDigest");
        if (c.aggregator == address(0)) revert ZKPoTInvalidTaskParameter("aggregator");
        if (c.evalSamples == 0) revert ZKPoTInvalidTaskParameter("evalSamples");
        if (c.minCorrect > c.evalSamples) revert ZKPoTInvalidTaskParameter("minCorrect");
        if (c.maxClients == 0) revert ZKPoTInvalidTaskParameter("maxClients");
        if (c.numRounds == 0) revert ZKPoTInvalidTaskParameter("numRounds");
        if (c.registrationBlocks == 0) revert ZKPoTInvalidTaskParameter("registrationBlocks");
        if (c.commitBlocks == 0) revert ZKPoTInvalidTaskParameter("commitBlocks");
        if (c.proofBlocks == 0) revert ZKPoTInvalidTaskParameter("proofBlocks");
        if (c.aggregateBlocks == 0) revert ZKPoTInvalidTaskParameter("aggregateBlocks");
        if (c.leaderShareBps > BPS) revert ZKPoTInvalidTaskParameter("leaderShareBps");
        if (c.minStake == 0) revert ZKPoTInvalidTaskParameter("minStake");
        // The penalty is also the registration bond of a client that never proves.
        if (c.missedProofPenalty == 0 || c.missedProofPenalty > c.minStake) {
            revert ZKPoTInvalidTaskParameter("missedProofPenalty");
        }
        if (c.aggregatorPenalty > c.aggregatorBond) revert ZKPoTInvalidTaskParameter("aggregatorPenalty");
        if (c.initialModelHash == bytes32(0) || bytes(c.initialModelCid).length == 0) {
            revert ZKPoTInvalidTaskParameter("initialModel");
        }
        if (bytes(c.circuitCid).length == 0) revert ZKPoTInvalidTaskParameter("circuitCid");
    }

    function _task(uint256 taskId) private view returns (Task storage t) {
        t = _tasks[taskId];
        if (t.status == TaskStatus.None) revert ZKPoTUnknownTask(taskId);
    }

    function _activeTask(uint256 taskId) private view returns (Task storage t) {
        t = _task(taskId);
        if (t.status != TaskStatus.Active) revert ZKPoTTaskNotActive(taskId, t.status);
    }

    /// @dev The task and `round`, checked to be its current round and still open.
    function _openRoundOf(uint256 taskId, uint256 round) private view returns (Task storage t, Round storage r) {
        t = _activeTask(taskId);
        if (round != t.currentRound) revert ZKPoTWrongRound(taskId, round, t.currentRound);
        r = _rounds[taskId][round];
        if (r.status != RoundStatus.Open) revert ZKPoTWrongRoundStatus(taskId, round, r.status);
    }

    /// @dev Checks that the sender may submit and that `instances[0]` and `salt` open
    ///      its commitment; returns the revealed weights hash.
    function _checkOpening(
        uint256 taskId,
        uint256 round,
        Contribution storage c,
        uint256[] calldata instances,
        bytes32 salt
    ) private view returns (bytes32 weightsHash) {
        if (c.submitted) revert ZKPoTAlreadySubmitted(taskId, round, msg.sender);
        if (c.commitment == bytes32(0)) revert ZKPoTNoCommitment(taskId, round, msg.sender);
        if (instances.length != NUM_INSTANCES) revert ZKPoTMalformedInstances(instances.length);
        weightsHash = bytes32(instances[0]);
        bytes32 opened = commitmentOf(msg.sender, taskId, round, weightsHash, salt);
        if (opened != c.commitment) revert ZKPoTCommitmentMismatch(msg.sender, c.commitment, opened);
    }

    /// @dev Refuses weights the sender could have copied rather than trained: a model
    ///      already submitted in this task, or revealed under the circuit (by a verified
    ///      proof, or published as a global model) no later than the round's commit end.
    ///      Only the task's own history or what was public before the commitment was
    ///      locked counts, so no transaction sent after seeing the sender's proof (a
    ///      front-run `createTask`, another task's aggregate or replay) can void it.
    function _checkFresh(uint256 taskId, uint256 round, bytes32 circuit, uint64 commitEnd, bytes32 weightsHash)
        private
        view
    {
        uint64 submitted = _submittedAt[circuit][weightsHash];
        if (_usedInTask[taskId][weightsHash] || (submitted != 0 && submitted <= commitEnd)) {
            revert ZKPoTDuplicateModel(taskId, round, weightsHash);
        }
        uint64 published = _publishedAt[circuit][weightsHash];
        if (published != 0 && published <= commitEnd) revert ZKPoTStaleModel(taskId, round, weightsHash);
    }

    /// @dev Checks the proof's length and artefact are the task's, then has the task's
    ///      verifier check the proof. The verifier itself ignores trailing bytes.
    function _checkProof(Task storage t, uint256 taskId, Submission calldata s) private view {
        if (s.proof.length != t.proofLength) revert ZKPoTWrongProofLength(taskId, t.proofLength, s.proof.length);
        bytes32 digest = keccak256(abi.encodePacked(s.vka));
        if (digest != t.vkaDigest) revert ZKPoTVerifyingKeyMismatch(taskId, t.vkaDigest, digest);
        // A static call: the verifier cannot modify state or re-enter us with effects.
        if (!Halo2VerifierAdapter.verify(verifier, s.proof, s.instances, s.vka, digest)) {
            revert ZKPoTProofRejected(taskId, msg.sender);
        }
    }

    /// @dev The round's tie-break seed: the hash of its commit-end block, unknown when
    ///      clients registered and committed, mixed with the task and round. Drawn at
    ///      the round's first verified proof; if that comes more than 256 blocks after
    ///      the commit end (no block hash left to read), the latest block hash serves.
    function _drawTieBreakSeed(uint256 taskId, uint256 round, uint64 commitEnd) private view returns (bytes32) {
        bytes32 entropy = blockhash(commitEnd);
        if (entropy == bytes32(0)) entropy = blockhash(block.number - 1);
        return keccak256(abi.encode(entropy, taskId, round));
    }

    /// @dev The tie-break key of `client` in a round: lower keys win ties.
    function _tieKey(bytes32 seed, address client) private pure returns (bytes32) {
        return keccak256(abi.encode(seed, client));
    }

    function _recordAccepted(Round storage r, address client, bytes32 weightsHash, uint32 correct) private {
        r.acceptedCount += 1;
        r.contributionsRoot = keccak256(abi.encode(r.contributionsRoot, client, weightsHash, correct));
        bool better = r.leader == address(0) || correct > r.leaderCorrect
            || (correct == r.leaderCorrect && _tieKey(r.tieBreakSeed, client) < _tieKey(r.tieBreakSeed, r.leader));
        if (better) {
            r.leader = client;
            r.leaderCorrect = correct;
        }
    }

    /// @dev Closes an open round: fixes its rewards, to be claimed. The round's share of
    ///      the pool is pool / rounds left; the leader's bonus is `leaderShareBps` of
    ///      it and the rest is split equally among accepted contributions (leader
    ///      included). Division dust stays in the pool.
    function _close(uint256 taskId, Task storage t, uint256 round, Round storage r) private {
        r.status = RoundStatus.Closed;
        if (r.acceptedCount > 0) {
            uint256 reward = t.rewardPool / (t.numRounds - round + 1);
            uint256 bonus = reward * t.leaderShareBps / BPS;
            t.rewardPool -= reward;
            r.leaderBonus = bonus;
            t.unclaimedRewards += bonus;
            _shareAmongAccepted(t, r, reward - bonus);
        }
        emit RoundClosed(
            taskId,
            round,
            r.leader,
            r.leaderCorrect,
            r.acceptedCount,
            r.leaderBonus,
            r.contributorReward,
            r.tieBreakSeed
        );
    }

    /// @dev Adds an equal share of `amount` (already taken from where it came from) to
    ///      each accepted contribution of the round; the division dust goes to the pool.
    function _shareAmongAccepted(Task storage t, Round storage r, uint256 amount) private {
        uint256 each = amount / r.acceptedCount;
        r.contributorReward += each;
        t.unclaimedRewards += each * r.acceptedCount;
        t.rewardPool += amount - each * r.acceptedCount;
    }

    /// @dev Appends the round's record, adopts its global model and opens the next
    ///      round, or completes the task after the last one.
    function _finalize(
        uint256 taskId,
        Task storage t,
        uint256 round,
        Round storage r,
        bytes32 modelHash,
        string memory cid,
        address aggregator
    ) private {
        r.status = RoundStatus.Finalized;
        RoundRecord memory record = RoundRecord({
            taskId: taskId,
            // Safe cast: rounds are numbered up to numRounds, a uint32.
            // forge-lint: disable-next-line(unsafe-typecast)
            round: uint32(round),
            prevRecordHash: t.headRecord,
            leader: r.leader,
            leaderCorrect: r.leaderCorrect,
            acceptedCount: r.acceptedCount,
            contributionsRoot: r.contributionsRoot,
            globalModelHash: modelHash,
            globalModelCid: cid,
            aggregator: aggregator
        });
        bytes32 head = _appendRecord(t, record);
        if (aggregator != address(0)) {
            t.globalModelHash = modelHash;
            t.globalModelCid = cid;
            _markPublished(t.circuitKey, modelHash);
        }
        if (round == t.numRounds) {
            uint256 refund = t.rewardPool + t.aggregatorBond;
            t.status = TaskStatus.Completed;
            t.rewardPool = 0;
            t.aggregatorBond = 0;
            _credits[t.publisher] += refund;
            emit TaskCompleted(taskId, head, modelHash, refund);
        } else {
            _openRound(taskId, t, uint64(block.number));
        }
    }

    function _appendRecord(Task storage t, RoundRecord memory record) private returns (bytes32 hash) {
        hash = recordHashOf(record);
        _recordHashes[record.taskId][record.round] = hash;
        t.headRecord = hash;
        emit RoundRecorded(record.taskId, record.round, hash, record);
    }

    function _openRound(uint256 taskId, Task storage t, uint64 openBlock) private {
        uint32 round = t.currentRound + 1;
        t.currentRound = round;
        Round storage r = _rounds[taskId][round];
        r.status = RoundStatus.Open;
        r.openBlock = openBlock;
        r.commitEnd = openBlock + t.commitBlocks - 1;
        r.proofEnd = r.commitEnd + t.proofBlocks;
        r.aggregateEnd = r.proofEnd + t.aggregateBlocks;
        emit RoundOpened(taskId, round, t.globalModelHash, openBlock, r.commitEnd, r.proofEnd, r.aggregateEnd);
    }

    /// @dev Punishes the client's pending missed proof, if its proof phase is over.
    ///      The slashed stake goes to the reward pool while the task runs, to the
    ///      publisher after. Returns whether there was a fault to punish.
    function _settleMissedProof(uint256 taskId, Task storage t, address client) private returns (bool) {
        Member storage m = _members[taskId][client];
        uint256 round = m.pendingRound;
        if (round == 0) return false;
        bool over =
            round < t.currentRound || t.status != TaskStatus.Active || block.number > _rounds[taskId][round].proofEnd;
        if (!over) return false;

        uint256 amount = _min(t.missedProofPenalty, m.stake);
        m.pendingRound = 0;
        m.bondSettled = true;
        m.stake -= amount;
        t.totalStake -= amount;
        _collect(t, amount);
        emit ClientSlashed(taskId, round, client, amount);
        return true;
    }

    /// @dev Credits the sender's whole stake back, less the registration bond
    ///      (`missedProofPenalty`) if, in a task that started, it neither proved nor
    ///      was slashed for a missed proof.
    function _releaseStake(uint256 taskId, Task storage t, Member storage m) private {
        uint256 amount = m.stake;
        if (amount == 0) revert ZKPoTNoStake(taskId, msg.sender);
        bool forfeits = !m.bondSettled && t.status != TaskStatus.Cancelled && block.number >= t.startBlock;
        uint256 forfeit = forfeits ? _min(t.missedProofPenalty, amount) : 0;

        m.stake = 0;
        t.totalStake -= amount;
        if (forfeit > 0) {
            _collect(t, forfeit);
            emit StakeForfeited(taskId, msg.sender, forfeit);
        }
        _credits[msg.sender] += amount - forfeit;
        emit StakeReleased(taskId, msg.sender, amount - forfeit);
    }

    /// @dev Takes in stake a client lost: into the reward pool while the task runs, to
    ///      the publisher once it has ended.
    function _collect(Task storage t, uint256 amount) private {
        if (t.status == TaskStatus.Active) t.rewardPool += amount;
        else _credits[t.publisher] += amount;
    }

    /// @dev Records the first block in which `modelHash` was published under a circuit.
    function _markPublished(bytes32 circuit, bytes32 modelHash) private {
        if (_publishedAt[circuit][modelHash] == 0) _publishedAt[circuit][modelHash] = uint64(block.number);
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
