// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoT} from "../interfaces/IZKPoT.sol";
import {CircuitRegistry} from "../verifier/CircuitRegistry.sol";
import {ZKPoTProofs} from "./ZKPoTProofs.sol";

/// @title ZKPoTRounds
/// @notice A task's rounds: commitments, verified contributions, the election of each
///         round's leader, the close that fixes its rewards, the global model, and the
///         hash chain of round records.
/// @dev Each round runs Commit -> Reveal -> Prove (-> Dispute, optimistic tasks) ->
///      Aggregate, all in blocks, then is closed (Closed) and finalised (Finalized):
///      with the aggregator's global model, or without it once its deadline passed.
///      Proofs are taken once the publisher revealed the round's evaluation batch, and
///      only on that batch. Immediate tasks elect the leader as proofs verify; optimistic
///      tasks at close, over the contributions that stood their dispute window. Leader
///      tie-break: the higher count wins, and among equal counts the lower
///      keccak256(abi.encode(seed, client)), where the round's seed derives from the
///      hash of its commit-end block.
abstract contract ZKPoTRounds is ZKPoTProofs {
    // ----------------------------------------------------------------- EXTERNAL

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
        _commit(taskId, round, r, c, m, commitment);
    }

    /// @inheritdoc IZKPoT
    function revealBatch(
        uint256 taskId,
        uint256 round,
        bytes calldata batchCommitment,
        bytes32 salt,
        string calldata batchCid
    ) external {
        (Task storage t, Round storage r) = _openRoundOf(taskId, round);
        if (msg.sender != t.publisher) revert ZKPoTNotPublisher(taskId, msg.sender);
        if (block.number <= r.commitEnd || block.number > r.revealEnd) {
            revert ZKPoTNotInRevealWindow(taskId, round, block.number, uint256(r.commitEnd) + 1, r.revealEnd);
        }
        if (r.batchDigest != bytes32(0)) revert ZKPoTBatchAlreadyRevealed(taskId, round);
        bytes32 digest = keccak256(batchCommitment);
        bytes32 expected = _batchCommitments[taskId][round];
        bytes32 opened = keccak256(abi.encode(digest, salt));
        if (opened != expected || batchCommitment.length == 0 || bytes(batchCid).length == 0) {
            revert ZKPoTBatchMismatch(taskId, round, expected, opened);
        }
        r.batchDigest = digest;
        // Safe cast: calldata is far below 2^32 bytes.
        // forge-lint: disable-next-line(unsafe-typecast)
        r.batchLength = uint32(batchCommitment.length);
        r.tieBreakSeed = _drawTieBreakSeed(taskId, round, r.commitEnd);
        emit BatchRevealed(taskId, round, digest, batchCid);
    }

    /// @inheritdoc IZKPoT
    function submitProof(uint256 taskId, uint256 round, Submission calldata submission) external {
        (Task storage t, Round storage r, Contribution storage c) = _inProofPhase(taskId, round);
        (bytes32 weightsHash, uint256 proven) = _checkProofShape(t, taskId, submission);
        _checkContribution(t, taskId, round, r, c, weightsHash, submission.salt, proven);
        bytes32 batch = _batchOf(submission.proof, r.batchLength);
        if (batch != r.batchDigest) revert ZKPoTWrongBatch(taskId, round, r.batchDigest, batch);
        if (!_verifies(t, submission.proof, proven)) revert ZKPoTProofRejected(taskId, msg.sender);
        bool accepted = _recordContribution(taskId, t, round, r, c, weightsHash, proven, true);
        emit ContributionVerified(taskId, round, msg.sender, weightsHash, proven, accepted, submission.sealedWeightsCid);
    }

    /// @inheritdoc IZKPoT
    function submitClaim(uint256 taskId, uint256 round, Claim calldata claim) external {
        (Task storage t, Round storage r, Contribution storage c) = _inProofPhase(taskId, round);
        if (!t.optimistic) revert ZKPoTWrongVerificationMode(taskId, false);
        _checkContribution(t, taskId, round, r, c, claim.weightsHash, claim.salt, claim.claimedCorrect);
        c.proofHash = claim.proofHash;
        // Safe cast: rounds are numbered up to numRounds, a uint32.
        // forge-lint: disable-next-line(unsafe-typecast)
        _members[taskId][msg.sender].claimRound = uint32(round);
        bool accepted = _recordContribution(taskId, t, round, r, c, claim.weightsHash, claim.claimedCorrect, false);
        emit ContributionClaimed(
            taskId,
            round,
            msg.sender,
            claim.weightsHash,
            claim.claimedCorrect,
            accepted,
            claim.sealedWeightsCid,
            claim.proofHash,
            claim.proofCid
        );
    }

    /// @inheritdoc IZKPoT
    function closeRound(uint256 taskId, address[] calldata standing) external {
        Task storage t = _activeTask(taskId);
        uint256 round = t.currentRound;
        Round storage r = _rounds[taskId][round];
        if (r.status != RoundStatus.Open) revert ZKPoTWrongRoundStatus(taskId, round, r.status);
        bool revealed = r.batchDigest != bytes32(0);
        uint256 endsAt = revealed ? r.disputeEnd : r.revealEnd;
        if (block.number <= endsAt) revert ZKPoTRoundNotOver(taskId, round, block.number, endsAt);
        if (r.openChallenges != 0) revert ZKPoTChallengesOpen(taskId, round, r.openChallenges);
        if (t.optimistic) _elect(taskId, round, r, standing);
        else if (standing.length != 0) revert ZKPoTWrongStanding(taskId, round, 0);

        _close(taskId, t, round, r);
        if (!revealed) _compensateMissedReveal(taskId, t, round, r);
        if (r.acceptedCount == 0) {
            _finalize(taskId, t, round, r, t.globalModelHash, t.globalModelCid, address(0), bytes32(0));
        }
    }

    /// @inheritdoc IZKPoT
    function publishGlobalModel(uint256 taskId, uint256 round, Aggregate calldata a) external {
        Task storage t = _activeTask(taskId);
        if (msg.sender != t.aggregator) revert ZKPoTNotAggregator(taskId, msg.sender);
        if (round != t.currentRound) revert ZKPoTWrongRound(taskId, round, t.currentRound);
        Round storage r = _rounds[taskId][round];
        if (block.number <= r.disputeEnd || block.number > r.aggregateEnd) {
            revert ZKPoTNotInAggregatePhase(taskId, round, block.number, uint256(r.disputeEnd) + 1, r.aggregateEnd);
        }
        if (r.acceptedCount == 0) revert ZKPoTNothingToAggregate(taskId, round);
        if (a.modelHash == bytes32(0) || bytes(a.cid).length == 0) revert ZKPoTEmptyModel();
        // Open or Closed here: a round with an accepted contribution is finalised only
        // below. An optimistic round is closed with the list of what stands.
        bool open = r.status == RoundStatus.Open;
        if (open && t.optimistic) revert ZKPoTWrongRoundStatus(taskId, round, r.status);
        _checkAggregate(taskId, t, round, r, a);

        if (open) _close(taskId, t, round, r);
        _finalize(taskId, t, round, r, a.modelHash, a.cid, msg.sender, keccak256(a.proof));
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

        _slashAggregator(taskId, t, round, r);
        _finalize(taskId, t, round, r, t.globalModelHash, t.globalModelCid, address(0), bytes32(0));
    }

    // ----------------------------------------------------------------- VIEWS

    /// @inheritdoc IZKPoT
    function getRound(uint256 taskId, uint256 round) external view returns (Round memory) {
        _task(taskId);
        return _rounds[taskId][round];
    }

    /// @inheritdoc IZKPoT
    function getContribution(uint256 taskId, uint256 round, address client)
        external
        view
        returns (Contribution memory)
    {
        _task(taskId);
        return _contributions[taskId][round][client];
    }

    /// @inheritdoc IZKPoT
    function phase(uint256 taskId) external view returns (Phase) {
        Task storage t = _task(taskId);
        if (t.status == TaskStatus.Completed) return Phase.Completed;
        if (t.status == TaskStatus.Cancelled) return Phase.Cancelled;
        Round storage r = _rounds[taskId][t.currentRound];
        if (block.number < r.openBlock) return Phase.Registration;
        if (block.number <= r.commitEnd) return Phase.Commit;
        if (r.batchDigest == bytes32(0)) return block.number <= r.revealEnd ? Phase.Reveal : Phase.RevealMissed;
        if (block.number <= r.proofEnd) return Phase.Prove;
        if (block.number <= r.answerEnd) return Phase.Dispute;
        if (block.number <= r.aggregateEnd) return Phase.Aggregate;
        return Phase.AggregationOverdue;
    }

    /// @inheritdoc IZKPoT
    function recordHash(uint256 taskId, uint256 round) external view returns (bytes32) {
        _task(taskId);
        return _recordHashes[taskId][round];
    }

    /// @inheritdoc IZKPoT
    function recordHashOf(RoundRecord memory record) public pure returns (bytes32) {
        return keccak256(abi.encode(record));
    }

    // ----------------------------------------------------------------- INTERNAL

    /// @dev Locks the sender's `commitment` in round `r`; its proof is now pending.
    function _commit(
        uint256 taskId,
        uint256 round,
        Round storage r,
        Contribution storage c,
        Member storage m,
        bytes32 commitment
    ) internal {
        c.commitment = commitment;
        // Safe cast: rounds are numbered up to numRounds, a uint32.
        // forge-lint: disable-next-line(unsafe-typecast)
        m.pendingRound = uint32(round);
        r.committedCount += 1;
        emit Committed(taskId, round, msg.sender, commitment);
    }

    /// @dev Records the sender's contribution `c`, revealing `weightsHash` with `count`
    ///      (`verified`: its proof passed the verifier; else a claim), settles its
    ///      registration bond, and counts it if its count reaches the task's threshold:
    ///      towards the leader at once in an immediate task, at close in an optimistic
    ///      one (a dispute may still strike it). Returns whether it is accepted.
    function _recordContribution(
        uint256 taskId,
        Task storage t,
        uint256 round,
        Round storage r,
        Contribution storage c,
        bytes32 weightsHash,
        uint256 count,
        bool verified
    ) internal returns (bool accepted) {
        // Safe cast: count <= evalSamples, itself a uint32 (checked by the caller).
        // forge-lint: disable-next-line(unsafe-typecast)
        uint32 correct = uint32(count);
        accepted = correct >= t.minCorrect;
        r.provedCount += 1;
        c.submitted = true;
        c.weightsHash = weightsHash;
        c.correct = correct;
        c.accepted = accepted;
        c.verified = verified;
        c.index = r.provedCount;
        _markSubmitted(taskId, t.circuitKey, weightsHash);
        Member storage m = _members[taskId][msg.sender];
        m.pendingRound = 0;
        m.bondSettled = true;
        if (accepted) {
            r.acceptedCount += 1;
            if (!t.optimistic) _fold(r, msg.sender, weightsHash, correct);
        }
    }

    /// @dev The task, `round` and the sender's contribution to it, checked to be in the
    ///      round's proof phase with its batch revealed.
    function _inProofPhase(uint256 taskId, uint256 round)
        private
        view
        returns (Task storage t, Round storage r, Contribution storage c)
    {
        (t, r) = _openRoundOf(taskId, round);
        if (block.number <= r.commitEnd || block.number > r.proofEnd) {
            revert ZKPoTNotInProofPhase(taskId, round, block.number, uint256(r.commitEnd) + 1, r.proofEnd);
        }
        if (r.batchDigest == bytes32(0)) revert ZKPoTBatchNotRevealed(taskId, round);
        c = _contributions[taskId][round][msg.sender];
    }

    /// @dev Checks an aggregate against round `r`: `a.accepted` is the round's accepted
    ///      contributions in the order of its contributions root (refolded here), and
    ///      the registry finds the proof of the task's aggregation circuit to hold their
    ///      weights hashes in that order and to show `a.modelHash` is their average.
    function _checkAggregate(uint256 taskId, Task storage t, uint256 round, Round storage r, Aggregate calldata a)
        internal
        view
        virtual
    {
        if (a.proof.length != t.aggregationProofLength) {
            revert ZKPoTWrongProofLength(taskId, t.aggregationProofLength, a.proof.length);
        }
        uint256 count = a.accepted.length;
        if (count != r.acceptedCount) revert ZKPoTWrongAcceptedList(taskId, round);
        bytes32[] memory inputs = new bytes32[](count);
        bytes32 root = bytes32(0); // the fold starts from zero, as the round's does
        for (uint256 k = 0; k < count; ++k) {
            Contribution storage c = _contributions[taskId][round][a.accepted[k]];
            inputs[k] = c.weightsHash;
            root = _foldRoot(root, a.accepted[k], c.weightsHash, c.correct);
        }
        if (root != r.contributionsRoot) revert ZKPoTWrongAcceptedList(taskId, round);
        CircuitRegistry(_registry).checkAggregate(
            t.aggregationVkaDigest, t.maxClients, inputs, a.modelHash, a.proof, a.instances
        );
    }

    /// @dev Elects an optimistic round's leader and folds its contributions root over
    ///      `standing`, checked to be exactly the round's accepted contributions that
    ///      stand, in submission order: each accepted and not struck, after the previous
    ///      one, and as many as the round counts.
    function _elect(uint256 taskId, uint256 round, Round storage r, address[] calldata standing) private {
        uint256 previous = 0; // indices are 1-based, so the first must exceed 0
        for (uint256 i = 0; i < standing.length; ++i) {
            Contribution storage c = _contributions[taskId][round][standing[i]];
            if (!c.accepted || c.index <= previous) revert ZKPoTWrongStanding(taskId, round, i);
            previous = c.index;
            _fold(r, standing[i], c.weightsHash, c.correct);
        }
        if (standing.length != r.acceptedCount) revert ZKPoTWrongStanding(taskId, round, standing.length);
    }

    /// @dev Closes an open round: fixes its rewards, to be claimed. The round's share of
    ///      the pool is pool / rounds left; the leader's bonus is `leaderShareBps` of
    ///      it and the rest is split equally among accepted contributions (leader
    ///      included). Division dust stays in the pool.
    function _close(uint256 taskId, Task storage t, uint256 round, Round storage r) internal {
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

    /// @dev Slashes the aggregator of a closed round whose deadline passed. The round
    ///      has accepted contributions (else it was finalised at close): the clients
    ///      whose work went unused share the penalty.
    function _slashAggregator(uint256 taskId, Task storage t, uint256 round, Round storage r) internal {
        uint256 penalty = _min(t.aggregatorPenalty, t.aggregatorBond);
        t.aggregatorBond -= penalty;
        _shareAmongAccepted(t, r, penalty);
        emit AggregatorSlashed(taskId, round, t.aggregator, penalty, r.contributorReward);
    }

    /// @dev The publisher missed the round's reveal, so its committed clients trained for
    ///      nothing: `min(aggregatorPenalty, bond left)` leaves the bond and is shared
    ///      equally among them (division dust stays in the bond), to claim.
    function _compensateMissedReveal(uint256 taskId, Task storage t, uint256 round, Round storage r) internal {
        uint256 each = r.committedCount == 0 ? 0 : _min(t.aggregatorPenalty, t.aggregatorBond) / r.committedCount;
        uint256 penalty = each * r.committedCount;
        t.aggregatorBond -= penalty;
        t.unclaimedRewards += penalty;
        r.contributorReward = each;
        emit RevealMissed(taskId, round, penalty, each);
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
        address aggregator,
        bytes32 proofHash
    ) internal {
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
            aggregator: aggregator,
            aggregationProofHash: proofHash
        });
        bytes32 head = _appendRecord(t, record);
        if (aggregator != address(0)) {
            t.globalModelHash = modelHash;
            t.globalModelCid = cid;
            _markPublished(t.circuitKey, modelHash);
        }
        if (round == t.numRounds) {
            uint256 refund = _endTask(t, TaskStatus.Completed);
            emit TaskCompleted(taskId, head, modelHash, refund);
        } else {
            _openRound(taskId, t, uint64(block.number));
        }
    }

    /// @dev Stores `record`'s hash as its round's and as the task's chain head.
    function _appendRecord(Task storage t, RoundRecord memory record) internal returns (bytes32 hash) {
        hash = recordHashOf(record);
        _recordHashes[record.taskId][record.round] = hash;
        t.headRecord = hash;
        emit RoundRecorded(record.taskId, record.round, hash, record);
    }

    /// @dev Opens the task's next round, its commit phase starting at `openBlock`.
    function _openRound(uint256 taskId, Task storage t, uint64 openBlock) internal {
        uint32 round = t.currentRound + 1;
        t.currentRound = round;
        Round storage r = _rounds[taskId][round];
        r.status = RoundStatus.Open;
        r.openBlock = openBlock;
        r.commitEnd = openBlock + t.commitBlocks - 1;
        r.revealEnd = r.commitEnd + t.revealBlocks;
        r.proofEnd = r.revealEnd + t.proofBlocks;
        r.disputeEnd = r.proofEnd + t.disputeBlocks;
        r.answerEnd = r.disputeEnd + t.disputeBlocks;
        r.aggregateEnd = r.answerEnd + t.aggregateBlocks;
        emit RoundOpened(
            taskId,
            round,
            t.globalModelHash,
            openBlock,
            r.commitEnd,
            r.revealEnd,
            r.proofEnd,
            r.disputeEnd,
            r.answerEnd,
            r.aggregateEnd
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

    /// @dev Folds the accepted contribution of `client` into the round's root and, if
    ///      it beats the leader so far (a higher count, or an equal count and a lower
    ///      tie-break key), makes it the leader.
    function _fold(Round storage r, address client, bytes32 weightsHash, uint32 correct) private {
        r.contributionsRoot = _foldRoot(r.contributionsRoot, client, weightsHash, correct);
        bool better = r.leader == address(0) || correct > r.leaderCorrect
            || (correct == r.leaderCorrect && _tieKey(r.tieBreakSeed, client) < _tieKey(r.tieBreakSeed, r.leader));
        if (better) {
            r.leader = client;
            r.leaderCorrect = correct;
        }
    }

    /// @dev A contributions root with one more accepted contribution folded in.
    function _foldRoot(bytes32 root, address client, bytes32 weightsHash, uint32 correct)
        private
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(root, client, weightsHash, correct));
    }

    /// @dev The round's tie-break seed: the hash of its commit-end block, unknown when
    ///      clients registered and committed, mixed with the task and round. Drawn when
    ///      the batch is revealed (no proof comes before); if that is more than 256
    ///      blocks after the commit end (no block hash left to read), the latest block
    ///      hash serves.
    function _drawTieBreakSeed(uint256 taskId, uint256 round, uint64 commitEnd) private view returns (bytes32) {
        bytes32 entropy = blockhash(commitEnd);
        if (entropy == bytes32(0)) entropy = blockhash(block.number - 1);
        return keccak256(abi.encode(entropy, taskId, round));
    }

    /// @dev The tie-break key of `client` in a round: lower keys win ties.
    function _tieKey(bytes32 seed, address client) private pure returns (bytes32) {
        return keccak256(abi.encode(seed, client));
    }
}
