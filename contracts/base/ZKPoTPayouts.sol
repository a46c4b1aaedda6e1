// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoT} from "../interfaces/IZKPoT.sol";
import {ZKPoTStorage} from "./ZKPoTStorage.sol";

/// @title ZKPoTPayouts
/// @notice ZKPoT's money: the functions that move a member's stake (run in
///         ZKPoTStakesModule), the credits they all turn into, and the refund at a
///         task's end.
abstract contract ZKPoTPayouts is ZKPoTStorage {
    // ----------------------------------------------------------------- EXTERNAL

    /// @inheritdoc IZKPoT
    function register(uint256) external payable {
        _inStakesModule();
    }

    /// @inheritdoc IZKPoT
    function topUpStake(uint256) external payable {
        _inStakesModule();
    }

    /// @inheritdoc IZKPoT
    function leave(uint256) external {
        _inStakesModule();
    }

    /// @inheritdoc IZKPoT
    function slashMissedProof(uint256, address) external {
        _inStakesModule();
    }

    /// @inheritdoc IZKPoT
    function claimReward(uint256, uint256) external {
        _inStakesModule();
    }

    /// @inheritdoc IZKPoT
    function releaseStake(uint256) external {
        _inStakesModule();
    }

    /// @inheritdoc IZKPoT
    function withdraw() external {
        _inStakesModule();
    }

    /// @inheritdoc IZKPoT
    function dispute(uint256, uint256, address, bytes calldata) external payable {
        _inStakesModule();
    }

    /// @inheritdoc IZKPoT
    function settleChallenge(uint256, uint256, address, bytes calldata) external {
        _inStakesModule();
    }

    /// @inheritdoc IZKPoT
    function creditOf(address account) external view returns (uint256) {
        return _credits[account];
    }

    // ----------------------------------------------------------------- INTERNAL

    /// @dev Ends the task with `status` (Completed or Cancelled) and credits its
    ///      publisher what is left of the reward pool and of the aggregator's bond.
    function _endTask(Task storage t, TaskStatus status) internal returns (uint256 refund) {
        refund = t.rewardPool + t.aggregatorBond;
        t.status = status;
        t.rewardPool = 0;
        t.aggregatorBond = 0;
        _credits[t.publisher] += refund;
    }
}
