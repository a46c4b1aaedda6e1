// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

/// @title KeyArtefact
/// @notice Reads the layout of an ezkl reusable-verifier key artefact (VKA).
library KeyArtefact {
    /// @notice Reverts unless `vka` is canonical; returns the length of its proofs.
    function checkCanonical(bytes32[] calldata vka) internal pure returns (uint256 proofLength) {
        uint256 n = uint256(vka[33]) & 0xff;
        for (uint256 k = 0; k < n; k++) {
            uint256 w = uint256(vka[33 + k]) >> (k == 0 ? 8 : 0);
            while (w != 0) {
                proofLength += w & 0xffff;
                w >>= 24;
            }
        }
        proofLength += 32 * uint256(vka[3]) + 0x80;
    }
}
