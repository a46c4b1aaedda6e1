// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoT} from "../interfaces/IZKPoT.sol";
import {ZKPoTStorage} from "./ZKPoTStorage.sol";

/// @title ZKPoTPayouts
/// @notice ZKPoT's money: stakes, the slashing of missed proofs, rewards, the credits
///         they all turn into, and their withdrawal.
/// @dev Every payment is a credit; ETH leaves the contract only in `withdraw`, after
///      the sender's credit is zeroed. Missed proofs are punished one client at a
///      time (`slashMissedProof`, or on the client's next commit, stake release or
///      departure) and rewards are claimed one contribution at a time: no loop.
abstract contract ZKPoTPayouts is ZKPoTStorage {
    // ----------------------------------------------------------------- EXTERNAL

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
        // Compensated: committed in a round whose batch the publisher never revealed.
        bool compensated = r.batchDigest == bytes32(0) && c.commitment != bytes32(0);
        if (!(c.accepted || compensated) || r.status != RoundStatus.Finalized) {
            revert ZKPoTNoReward(taskId, round, msg.sender);
        }
        if (c.rewardClaimed) revert ZKPoTAlreadyClaimed(taskId, round, msg.sender);
        _claimReward(taskId, t, round, r, c);
    }

    /// @inheritdoc IZKPoT
    function releaseStake(uint256 taskId) external {
        Task storage t = _task(taskId);
        if (t.status == TaskStatus.Active) revert ZKPoTStakeLocked(taskId, t.status);
        _settleMissedProof(taskId, t, msg.sender);
        _releaseStake(taskId, t, _members[taskId][msg.sender]);
    }

    /// @inheritdoc IZKPoT
    function withdraw() external {
        uint256 amount = _credits[msg.sender];
        if (amount == 0) revert ZKPoTNothingToWithdraw(msg.sender);
        _withdraw(amount);
    }

    /// @inheritdoc IZKPoT
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    // ----------------------------------------------------------------- INTERNAL

    /// @dev Credits the sender the reward of its contribution `c` to round `r`: the
    ///      contributor reward, plus the leader's bonus if it led.
    function _claimReward(uint256 taskId, Task storage t, uint256 round, Round storage r, Contribution storage c)
        internal
    {
        uint256 amount = r.contributorReward + (r.leader == msg.sender ? r.leaderBonus : 0);
        c.rewardClaimed = true;
        t.unclaimedRewards -= amount;
        _credits[msg.sender] += amount;
        emit RewardClaimed(taskId, round, msg.sender, amount);
    }

    /// @dev Sends the sender its whole credit, `amount`.
    function _withdraw(uint256 amount) internal {
        // Effects before the interaction: a re-entrant call finds the credit spent.
        _credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok,) = msg.sender.call{value: amount}("");
        if (!ok) revert ZKPoTTransferFailed(msg.sender, amount);
    }

    /// @dev Punishes the client's pending missed proof, if its proof phase is over.
    ///      The slashed stake goes to the reward pool while the task runs, to the
    ///      publisher after. Returns whether there was a fault to punish. A proof that
    ///      could not be made (the round's batch was never revealed) is no fault: it
    ///      is no longer pending once the reveal window is over, and the commitment
    ///      settles the registration bond as a proof would (the client took part; a
    ///      publisher withholding reveals must not collect the bonds).
    function _settleMissedProof(uint256 taskId, Task storage t, address client) internal returns (bool) {
        Member storage m = _members[taskId][client];
        uint256 round = m.pendingRound;
        if (round == 0) return false;
        Round storage r = _rounds[taskId][round];
        (bool revealed, uint256 endsAt) = _proofWindow(r);
        bool over = round < t.currentRound || t.status != TaskStatus.Active || block.number > endsAt;
        if (!over) return false;
        m.pendingRound = 0;
        m.bondSettled = true;
        if (!revealed) return false;

        uint256 amount = _min(t.missedProofPenalty, m.stake);
        m.stake -= amount;
        t.totalStake -= amount;
        _collect(t, amount);
        emit ClientSlashed(taskId, round, client, amount);
        return true;
    }

    /// @dev Credits the sender's whole stake back, less the registration bond
    ///      (`missedProofPenalty`) if, in a task that started, it neither proved nor
    ///      was slashed for a missed proof.
    function _releaseStake(uint256 taskId, Task storage t, Member storage m) internal {
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

    /// @dev Ends the task with `status` (Completed or Cancelled) and credits its
    ///      publisher what is left of the reward pool and of the aggregator's bond.
    function _endTask(Task storage t, TaskStatus status) internal returns (uint256 refund) {
        refund = t.rewardPool + t.aggregatorBond;
        t.status = status;
        t.rewardPool = 0;
        t.aggregatorBond = 0;
        _credits[t.publisher] += refund;
    }

    /// @dev Takes in stake a client lost: into the reward pool while the task runs, to
    ///      the publisher once it has ended.
    function _collect(Task storage t, uint256 amount) private {
        if (t.status == TaskStatus.Active) t.rewardPool += amount;
        else _credits[t.publisher] += amount;
    }
}
