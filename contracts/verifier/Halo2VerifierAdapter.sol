// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

/// @title Halo2VerifierAdapter
/// @notice The selectors of ezkl's generated reusable Halo2 verifier (kept unedited
///         in Halo2VerifierReusable.sol), and the registration of an artefact on it.
/// @dev The generated `verifyProof` reverts with empty data on a bad proof and, on a
///      good one, returns from assembly `(1, vkaDigest, rescaled instances)` where the
///      trailing array is not ABI-encoded, so a typed interface call cannot decode it:
///      CircuitRegistry.verify reads the two leading words itself.
library Halo2VerifierAdapter {
    /// @dev bytes4(keccak256("verifyProof(bytes,uint256[],bytes32[])"))
    bytes4 internal constant VERIFY_PROOF_SELECTOR = bytes4(keccak256("verifyProof(bytes,uint256[],bytes32[])"));
    /// @dev bytes4(keccak256("registerVka(bytes32[])"))
    bytes4 internal constant REGISTER_VKA_SELECTOR = bytes4(keccak256("registerVka(bytes32[])"));

    /// @notice Registers the artefact `vka` on `verifier` (which then accepts proofs
    ///         under it); reverts with the verifier's error if it refuses.
    function register(address verifier, bytes32[] calldata vka) internal {
        (bool ok, bytes memory ret) = verifier.call(abi.encodeWithSelector(REGISTER_VKA_SELECTOR, vka));
        if (!ok) {
            // Bubble up the verifier's revert data unchanged.
            assembly {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
