// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {ZKPoT} from "../../../contracts/ZKPoT.sol";

/// @notice ZKPoT with the aggregation proof's check left out, for the suites that
///         exercise rounds, rewards, disputes and stakes around any global model (they
///         publish models by name, for which no aggregation proof exists). Everything
///         else is ZKPoT's own code. ZKPoTAggregate.t.sol tests the check itself, on
///         ZKPoT, with real aggregation proofs.
contract ZKPoTUncheckedAggregates is ZKPoT {
    constructor(address verifier_) ZKPoT(verifier_) {}

    function _checkAggregate(uint256, Task storage, uint256, Round storage, Aggregate calldata)
        internal
        view
        override
    {}
}
