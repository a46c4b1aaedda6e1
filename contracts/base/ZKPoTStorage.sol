// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {LibCall} from "solady/src/utils/LibCall.sol";
import {IZKPoT} from "../interfaces/IZKPoT.sol";
import {ZKPoTStakesModule} from "../modules/ZKPoTStakesModule.sol";
import {ZKPoTState} from "./ZKPoTState.sol";

/// @title ZKPoTStorage
/// @notice ZKPoT's state (ZKPoTState) with the contracts it deploys for itself: the
///         registry of key artefacts and the stakes module.
/// @dev The bottom of ZKPoT's linear inheritance chain: ZKPoTStorage -> ZKPoTPayouts
///      -> ZKPoTProofs -> ZKPoTRounds -> ZKPoTTasks -> ZKPoT. The functions that move
///      a member's stake (joining, topping up, leaving, slashing, disputes, rewards,
///      withdrawal) run in ZKPoTStakesModule by delegatecall (in ZKPoT's storage,
///      with its msg.sender and msg.value), only to keep ZKPoT under the EIP-170 size
///      limit; the module's address is fixed here, at deployment.
abstract contract ZKPoTStorage is ZKPoTState, IZKPoT {
    /// @dev The dispute module, deployed with this contract.
    address private immutable _stakesModule;

    /// @param verifier_ ezkl's reusable Halo2 verifier (contracts/verifier/).
    /// @param registry_ The registry of key artefacts, deployed for this contract.
    constructor(address verifier_, address registry_) ZKPoTState(verifier_, registry_) {
        _stakesModule = address(new ZKPoTStakesModule(verifier_, registry_));
    }

    /// @inheritdoc IZKPoT
    function verifier() external view returns (address) {
        return _verifier;
    }

    /// @inheritdoc IZKPoT
    function circuits() external view returns (address) {
        return _registry;
    }

    /// @dev Runs the current call in the stakes module, in this contract's storage,
    ///      and passes its revert on.
    function _inStakesModule() internal {
        LibCall.delegateCallContract(_stakesModule, msg.data);
    }
}
