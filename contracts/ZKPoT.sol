// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoT} from "./interfaces/IZKPoT.sol";
import {Halo2VerifierAdapter} from "./verifier/Halo2VerifierAdapter.sol";

/// @title ZKPoT
/// @notice Zero-knowledge proof-of-training consensus for federated learning.
///         Clients prove with a zk-SNARK that the model they committed to classifies
///         a number of the task's evaluation samples correctly; the contract accepts
///         contributions whose proof verifies and elects each round's leader by
///         verified accuracy. Neither weights nor data ever reach the chain.
/// @dev Leader tie-break: the higher count wins, and among equal counts the lower
///      address, so the outcome does not depend on transaction order.
contract ZKPoT is IZKPoT {
    // ----------------------------------------------------------------- STORAGE

    struct Task {
        address aggregator;
        address verifier;
        bytes32 vkaDigest;
        bytes32 globalModelHash;
        uint32 evalSamples;
        uint32 minCorrect;
        uint32 numRounds;
        uint32 commitBlocks;
        uint32 proofBlocks;
        uint32 currentRound;
        bool roundClosed;
        bool finished;
        uint64 commitEnd;
        uint64 proofEnd;
    }

    struct Round {
        address leader;
        uint32 leaderCorrect;
        uint32 acceptedCount;
    }

    struct Contribution {
        bytes32 commitment;
        bytes32 weightsHash;
        uint32 correct;
        bool submitted;
        bool accepted;
    }

    /// @dev Number of public instances of the evaluation circuit: weights hash, count.
    uint256 private constant NUM_INSTANCES = 2;

    uint256 private _taskCount;
    mapping(uint256 taskId => Task) private _tasks;
    mapping(uint256 taskId => mapping(uint256 round => Round)) private _rounds;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address client => Contribution))) private
        _contributions;
    mapping(uint256 taskId => mapping(uint256 round => mapping(bytes32 weightsHash => bool))) private _modelSeen;

    // ----------------------------------------------------------------- TASKS

    /// @inheritdoc IZKPoT
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
    ) external returns (uint256 taskId) {
        if (verifier.code.length == 0) revert ZKPoTInvalidTaskParameter("verifier");
        if (vkaDigest == bytes32(0)) revert ZKPoTInvalidTaskParameter("vkaDigest");
        if (evalSamples == 0) revert ZKPoTInvalidTaskParameter("evalSamples");
        if (minCorrect > evalSamples) revert ZKPoTInvalidTaskParameter("minCorrect");
        if (numRounds == 0) revert ZKPoTInvalidTaskParameter("numRounds");
        if (commitBlocks == 0) revert ZKPoTInvalidTaskParameter("commitBlocks");
        if (proofBlocks == 0) revert ZKPoTInvalidTaskParameter("proofBlocks");

        taskId = ++_taskCount;
        Task storage t = _tasks[taskId];
        t.aggregator = msg.sender;
        t.verifier = verifier;
        t.vkaDigest = vkaDigest;
        t.evalSamples = evalSamples;
        t.minCorrect = minCorrect;
        t.numRounds = numRounds;
        t.commitBlocks = commitBlocks;
        t.proofBlocks = proofBlocks;
        emit TaskOpened(
            taskId,
            msg.sender,
            verifier,
            vkaDigest,
            aggregatorKey,
            evalSamples,
            minCorrect,
            numRounds,
            commitBlocks,
            proofBlocks
        );
        emit GlobalModelPublished(taskId, 0, initialModelHash, initialModelCid);
        _openRound(taskId, t, initialModelHash);
    }

    // ----------------------------------------------------------------- ROUNDS

    /// @inheritdoc IZKPoT
    function commit(uint256 taskId, uint256 round, bytes32 commitment) external {
        Task storage t = _liveTask(taskId, round);
        uint256 opensAt = t.commitEnd - t.commitBlocks + 1;
        if (block.number > t.commitEnd) {
            revert ZKPoTNotInCommitPhase(taskId, round, block.number, opensAt, t.commitEnd);
        }
        if (commitment == bytes32(0)) revert ZKPoTEmptyCommitment(msg.sender);
        Contribution storage c = _contributions[taskId][round][msg.sender];
        if (c.commitment != bytes32(0)) revert ZKPoTAlreadyCommitted(taskId, round, msg.sender);

        c.commitment = commitment;
        emit Committed(taskId, round, msg.sender, commitment);
    }

    /// @inheritdoc IZKPoT
    function submitProof(uint256 taskId, uint256 round, Submission calldata submission) external {
        Task storage t = _liveTask(taskId, round);
        if (block.number <= t.commitEnd || block.number > t.proofEnd) {
            revert ZKPoTNotInProofPhase(taskId, round, block.number, uint256(t.commitEnd) + 1, t.proofEnd);
        }
        Contribution storage c = _contributions[taskId][round][msg.sender];
        bytes32 weightsHash = _checkOpening(taskId, round, c, submission.instances, submission.salt);
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
        _modelSeen[taskId][round][weightsHash] = true;
        if (accepted) _recordAccepted(_rounds[taskId][round], msg.sender, count);
        emit ContributionVerified(
            taskId, round, msg.sender, weightsHash, proven, accepted, submission.sealedWeightsCid
        );
    }

    /// @inheritdoc IZKPoT
    function closeRound(uint256 taskId) external {
        Task storage t = _task(taskId);
        if (t.finished) revert ZKPoTTaskFinished(taskId);
        uint256 round = t.currentRound;
        if (t.roundClosed) revert ZKPoTRoundClosed(taskId, round);
        if (block.number <= t.proofEnd) revert ZKPoTRoundNotOver(taskId, round, block.number, t.proofEnd);

        t.roundClosed = true;
        Round storage r = _rounds[taskId][round];
        emit RoundClosed(taskId, round, r.leader, r.leaderCorrect, r.acceptedCount);
    }

    /// @inheritdoc IZKPoT
    function publishGlobalModel(uint256 taskId, uint256 round, bytes32 modelHash, string calldata cid) external {
        Task storage t = _task(taskId);
        if (msg.sender != t.aggregator) revert ZKPoTNotAggregator(taskId, msg.sender);
        if (t.finished) revert ZKPoTTaskFinished(taskId);
        if (round != t.currentRound) revert ZKPoTWrongRound(taskId, round, t.currentRound);
        if (!t.roundClosed) revert ZKPoTRoundNotClosed(taskId, round);

        emit GlobalModelPublished(taskId, round, modelHash, cid);
        if (round == t.numRounds) {
            t.finished = true;
            t.globalModelHash = modelHash;
            emit TaskCompleted(taskId, modelHash);
        } else {
            _openRound(taskId, t, modelHash);
        }
    }

    // ----------------------------------------------------------------- VIEWS

    /// @notice The commitment a client makes to `weightsHash` with `salt`.
    function commitmentOf(address client, uint256 taskId, uint256 round, bytes32 weightsHash, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(client, taskId, round, weightsHash, salt));
    }

    /// @notice Number of tasks opened so far (the last task id).
    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    /// @notice A task's parameters and state.
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _task(taskId);
    }

    /// @notice A round's leader, the leader's count and the number of accepted contributions.
    function getRound(uint256 taskId, uint256 round) external view returns (Round memory) {
        _task(taskId);
        return _rounds[taskId][round];
    }

    /// @notice A client's commitment and contribution in a round.
    function getContribution(uint256 taskId, uint256 round, address client)
        external
        view
        returns (Contribution memory)
    {
        _task(taskId);
        return _contributions[taskId][round][client];
    }

    // ----------------------------------------------------------------- INTERNAL

    function _task(uint256 taskId) private view returns (Task storage t) {
        t = _tasks[taskId];
        if (t.aggregator == address(0)) revert ZKPoTUnknownTask(taskId);
    }

    /// @dev The task, checked to be running `round` with the round still open.
    function _liveTask(uint256 taskId, uint256 round) private view returns (Task storage t) {
        t = _task(taskId);
        if (t.finished) revert ZKPoTTaskFinished(taskId);
        if (round != t.currentRound) revert ZKPoTWrongRound(taskId, round, t.currentRound);
        if (t.roundClosed) revert ZKPoTRoundClosed(taskId, round);
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
        if (_modelSeen[taskId][round][weightsHash]) revert ZKPoTDuplicateModel(taskId, round, weightsHash);
    }

    /// @dev Checks the artefact is the task's, then has the task's verifier check the proof.
    function _checkProof(Task storage t, uint256 taskId, Submission calldata s) private view {
        bytes32 digest = keccak256(abi.encodePacked(s.vka));
        if (digest != t.vkaDigest) revert ZKPoTVerifyingKeyMismatch(taskId, t.vkaDigest, digest);
        // A static call: the verifier cannot modify state or re-enter us with effects.
        if (!Halo2VerifierAdapter.verify(t.verifier, s.proof, s.instances, s.vka, digest)) {
            revert ZKPoTProofRejected(taskId, msg.sender);
        }
    }

    function _openRound(uint256 taskId, Task storage t, bytes32 globalModelHash) private {
        t.currentRound += 1;
        t.roundClosed = false;
        t.globalModelHash = globalModelHash;
        t.commitEnd = uint64(block.number + t.commitBlocks);
        t.proofEnd = t.commitEnd + t.proofBlocks;
        emit RoundOpened(taskId, t.currentRound, globalModelHash, t.commitEnd, t.proofEnd);
    }

    function _recordAccepted(Round storage r, address client, uint32 correct) private {
        r.acceptedCount += 1;
        bool better = correct > r.leaderCorrect || r.leader == address(0)
            || (correct == r.leaderCorrect && client < r.leader);
        if (better) {
            r.leader = client;
            r.leaderCorrect = correct;
        }
    }
}
