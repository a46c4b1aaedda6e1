// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {ZKPoTState} from "../base/ZKPoTState.sol";

/// @title ZKPoTStakesModule
/// @notice Everything that moves a member's stake: joining a task, topping up,
///         leaving, releasing it, the slashing of missed proofs, disputes of optimistic
///         claims, rewards and withdrawal.
/// @dev ZKPoT runs these functions here by delegatecall, in its own storage (the
///      layout of ZKPoTState) with its msg.sender and msg.value, to stay under the
///      EIP-170 size limit; called directly, the module has no task and refuses
///      everything. Every payment is a credit; ETH leaves ZKPoT only in `withdraw`,
///      after the sender's credit is zeroed. Missed proofs are punished one client at
///      a time and rewards are claimed one contribution at a time: no loop.
///      Disputes (optimistic tasks): a claim stands unless someone disputes it in the
///      round's dispute window and the verifier, run on the claimed proof's bytes,
///      refuses them. A dispute brings the bytes (from the content store) and is
///      judged at once: an invalid proof is struck from the round and its client's
///      whole stake is slashed, half of it to the disputer (with the bond back) and
///      half to the reward pool, so that a cheater that disputes itself first, from
///      another account, still loses half; a valid one keeps its place and the bond
///      goes to its client. If nobody can fetch the bytes, a dispute without them
///      challenges the claim: anyone may bring them until the round's `answerEnd`,
///      after which the claim is struck as if invalid (a proof nobody can check
///      convinces nobody). The round closes only once no challenge is open. Every
///      judgement is one static call to the registry's verifier, made before any
///      effect of the judgement.
contract ZKPoTStakesModule is ZKPoTState {
    /// @param verifier_ ezkl's reusable Halo2 verifier.
    /// @param registry_ ZKPoT's registry of key artefacts.
    constructor(address verifier_, address registry_) ZKPoTState(verifier_, registry_) {}

    // ----------------------------------------------------------------- EXTERNAL

    /// @notice See IZKPoT.register.
    function register(uint256 taskId) external payable {
        Task storage t = _activeTask(taskId);
        if (block.number >= t.startBlock) revert ZKPoTRegistrationClosed(taskId, block.number, t.startBlock);
        Member storage m = _members[taskId][msg.sender];
        if (m.registered) revert ZKPoTAlreadyRegistered(taskId, msg.sender);
        if (t.clientCount >= t.maxClients) revert ZKPoTTaskFull(taskId, t.maxClients);
        if (msg.value < t.minStake) revert ZKPoTStakeTooLow(msg.value, t.minStake);
        _register(taskId, t, m, msg.value);
    }

    /// @notice See IZKPoT.topUpStake.
    function topUpStake(uint256 taskId) external payable {
        Task storage t = _activeTask(taskId);
        Member storage m = _members[taskId][msg.sender];
        if (!m.registered) revert ZKPoTNotRegistered(taskId, msg.sender);
        if (msg.value == 0) revert ZKPoTEmptyTopUp();
        // A missed proof is punished first: the top-up is not there to pay for it.
        _settleMissedProof(taskId, t, msg.sender);
        m.stake += msg.value;
        t.totalStake += msg.value;
        emit StakeToppedUp(taskId, msg.sender, msg.value, m.stake);
    }

    /// @notice See IZKPoT.leave.
    function leave(uint256 taskId) external {
        Task storage t = _activeTask(taskId);
        Member storage m = _members[taskId][msg.sender];
        if (!m.registered) revert ZKPoTNotRegistered(taskId, msg.sender);
        // A missed proof is punished first; a proof still due keeps the client in.
        _settleMissedProof(taskId, t, msg.sender);
        if (m.pendingRound != 0) revert ZKPoTProofPending(taskId, msg.sender, m.pendingRound);
        // A claim that can still be disputed keeps the stake it may lose.
        uint256 claimed = m.claimRound;
        if (claimed != 0 && _rounds[taskId][claimed].status == RoundStatus.Open) {
            revert ZKPoTProofPending(taskId, msg.sender, claimed);
        }
        _leave(taskId, t, m);
    }

    /// @notice See IZKPoT.slashMissedProof.
    function slashMissedProof(uint256 taskId, address client) external {
        Task storage t = _task(taskId);
        if (!_settleMissedProof(taskId, t, client)) revert ZKPoTNoFault(taskId, client);
    }

    /// @notice See IZKPoT.claimReward.
    function claimReward(uint256 taskId, uint256 round) external {
        Task storage t = _task(taskId);
        Round storage r = _rounds[taskId][round];
        Contribution storage c = _contributions[taskId][round][msg.sender];
        // Compensated: committed in a round whose batch the publisher never revealed.
        bool compensated = r.batchDigest == bytes32(0) && c.commitment != bytes32(0);
        if (!(c.accepted || compensated) || r.status != RoundStatus.Finalized) {
            revert ZKPoTNoReward(taskId, round, msg.sender);
        }
        if (c.rewardClaimed) revert ZKPoTAlreadyClaimed(taskId, round, msg.sender);
        _claimReward(taskId, t, round, r, c);
    }

    /// @notice See IZKPoT.releaseStake.
    function releaseStake(uint256 taskId) external {
        Task storage t = _task(taskId);
        if (t.status == TaskStatus.Active) revert ZKPoTStakeLocked(taskId, t.status);
        _settleMissedProof(taskId, t, msg.sender);
        _releaseStake(taskId, t, _members[taskId][msg.sender]);
    }

    /// @notice See IZKPoT.withdraw.
    function withdraw() external {
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert ZKPoTNothingToWithdraw(msg.sender);
        _withdraw(amount);
    }

    /// @notice See IZKPoT.dispute.
    function dispute(uint256 taskId, uint256 round, address client, bytes calldata proof) external payable {
        (Task storage t, Round storage r) = _openRoundOf(taskId, round);
        if (!t.optimistic) revert ZKPoTWrongVerificationMode(taskId, false);
        if (block.number > r.disputeEnd) revert ZKPoTNotInDisputeWindow(taskId, round, block.number, r.disputeEnd);
        Contribution storage c = _contributions[taskId][round][client];
        if (!c.submitted || c.verified || c.struck || c.challenger != address(0)) {
            revert ZKPoTNotDisputable(taskId, round, client);
        }
        if (msg.value != t.disputeBond) revert ZKPoTWrongDisputeBond(msg.value, t.disputeBond);
        if (proof.length == 0) {
            c.challenger = msg.sender;
            r.openChallenges += 1;
            t.heldBonds += msg.value;
            emit ClaimChallenged(taskId, round, client, msg.sender, r.answerEnd);
        } else {
            _judge(taskId, t, round, r, c, client, msg.sender, proof);
        }
    }

    /// @notice See IZKPoT.settleChallenge.
    function settleChallenge(uint256 taskId, uint256 round, address client, bytes calldata proof) external {
        (Task storage t, Round storage r) = _openRoundOf(taskId, round);
        Contribution storage c = _contributions[taskId][round][client];
        address challenger = c.challenger;
        if (challenger == address(0)) revert ZKPoTNoChallenge(taskId, round, client);
        c.challenger = address(0);
        r.openChallenges -= 1;
        t.heldBonds -= t.disputeBond;
        if (block.number > r.answerEnd) _strike(taskId, t, round, r, c, client, challenger);
        else _judge(taskId, t, round, r, c, client, challenger, proof);
    }

    // ----------------------------------------------------------------- INTERNAL

    /// @dev Adds the sender to the task with `stake`.
    function _register(uint256 taskId, Task storage t, Member storage m, uint256 stake) private {
        m.registered = true;
        m.stake = stake;
        t.clientCount += 1;
        t.totalStake += stake;
        emit ClientRegistered(taskId, msg.sender, stake);
    }

    /// @dev Removes the sender from the task and releases its stake.
    function _leave(uint256 taskId, Task storage t, Member storage m) private {
        m.registered = false;
        // Before round 1 the slot is free again for someone who will take part.
        t.clientCount -= 1;
        emit ClientLeft(taskId, msg.sender);
        _releaseStake(taskId, t, m);
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

    /// @dev Credits the sender the reward of its contribution `c` to round `r`: the
    ///      contributor reward, plus the leader's bonus if it led.
    function _claimReward(uint256 taskId, Task storage t, uint256 round, Round storage r, Contribution storage c)
        private
    {
        uint256 amount = r.contributorReward + (r.leader == msg.sender ? r.leaderBonus : 0);
        c.rewardClaimed = true;
        t.unclaimedRewards -= amount;
        _credits[msg.sender] += amount;
        emit RewardClaimed(taskId, round, msg.sender, amount);
    }

    /// @dev Sends the sender its whole credit, `amount`.
    function _withdraw(uint256 amount) private {
        // Effects before the interaction: a re-entrant call finds the credit spent.
        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert ZKPoTTransferFailed(msg.sender, amount);
    }

    /// @dev Judges `client`'s claim `c` on `proof`, which must be the claimed bytes:
    ///      valid, it can no longer be disputed and the bond is credited to the client;
    ///      invalid, it is struck.
    function _judge(
        uint256 taskId,
        Task storage t,
        uint256 round,
        Round storage r,
        Contribution storage c,
        address client,
        address disputer,
        bytes calldata proof
    ) private {
        bytes32 proofHash = keccak256(proof);
        if (proofHash != c.proofHash) revert ZKPoTProofHashMismatch(c.proofHash, proofHash);
        if (_claimHolds(t, r, c, proof)) {
            c.verified = true;
            _credits[client] += t.disputeBond;
            emit DisputeRejected(taskId, round, client, disputer, t.disputeBond);
        } else {
            _strike(taskId, t, round, r, c, client, disputer);
        }
    }

    /// @dev Strikes `client`'s claim from the round and slashes its whole stake: half
    ///      (rounded down) to `disputer` with the dispute bond, the rest to the pool.
    function _strike(
        uint256 taskId,
        Task storage t,
        uint256 round,
        Round storage r,
        Contribution storage c,
        address client,
        address disputer
    ) private {
        c.struck = true;
        if (c.accepted) {
            c.accepted = false;
            r.acceptedCount -= 1;
        }
        Member storage m = _members[taskId][client];
        uint256 slashed = m.stake;
        m.stake = 0;
        t.totalStake -= slashed;
        uint256 paid = slashed / 2;
        _collect(t, slashed - paid);
        _credits[disputer] += paid + t.disputeBond;
        emit ContributionStruck(taskId, round, client, disputer, slashed, paid);
    }
}
