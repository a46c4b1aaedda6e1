// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {SSTORE2} from "solady/src/utils/SSTORE2.sol";
import {IZKPoTTypes} from "../interfaces/IZKPoTTypes.sol";
import {KeyArtefact} from "./KeyArtefact.sol";
import {Halo2VerifierAdapter} from "./Halo2VerifierAdapter.sol";

/// @title CircuitRegistry
/// @notice Keeps each registered verification-key artefact of ezkl's reusable verifier
///         once, and verifies proofs under it: a submission names its circuit by
///         digest instead of carrying the artefact (about 9.6 KB of calldata) with
///         every proof.
/// @dev An artefact is checked canonical (KeyArtefact) and stored as the code of a
///      data contract (solady's SSTORE2; an artefact larger than a contract's code
///      limit, as an aggregation circuit's can be, takes several) when registered;
///      each verification copies it back into memory with EXTCODECOPY, a few thousand
///      gas against some 150k of calldata. ZKPoT deploys its own registry in its
///      constructor.
contract CircuitRegistry {
    /// @notice ezkl's reusable Halo2 verifier, on which every artefact is registered too.
    address public immutable verifier;

    /// @dev Words per data contract: 24,320 bytes of code, under EIP-170's limit (an
    ///      aggregation circuit's artefact can be larger than one contract holds).
    uint256 private constant PART_WORDS = 760;

    /// @dev The data contracts that hold each registered artefact, in order.
    mapping(bytes32 vkaDigest => address[]) private _parts;

    /// @param verifier_ ezkl's reusable Halo2 verifier.
    constructor(address verifier_) {
        if (verifier_.code.length == 0) revert IZKPoTTypes.ZKPoTVerifierWithoutCode(verifier_);
        verifier = verifier_;
    }

    /// @notice Check that `vka` is canonical, keep it, and register it on the verifier.
    ///         Anyone may call; registering an artefact twice changes nothing.
    /// @param vka The artefact's words, as ezkl writes them (without the length prefix).
    /// @return vkaDigest keccak256 of the words.
    /// @return key Word 0 of the artefact (the circuit's vk digest).
    /// @return proofLength Length in bytes of the circuit's proofs.
    function register(bytes32[] calldata vka) external returns (bytes32 vkaDigest, bytes32 key, uint256 proofLength) {
        proofLength = KeyArtefact.checkCanonical(vka);
        key = vka[0];
        vkaDigest = keccak256(abi.encodePacked(vka));
        if (_parts[vkaDigest].length != 0) return (vkaDigest, key, proofLength);
        for (uint256 start = 0; start < vka.length; start += PART_WORDS) {
            uint256 end = start + PART_WORDS < vka.length ? start + PART_WORDS : vka.length;
            _parts[vkaDigest].push(SSTORE2.write(abi.encodePacked(vka[start:end])));
        }
        // The verifier keeps its own registry of artefacts.
        Halo2VerifierAdapter.register(verifier, vka);
    }

    /// @notice Check an aggregation proof (see `IZKPoTTypes.Aggregate`): its contribution
    ///         slots hold `inputs` in order, the slot after them holds `modelHash`, its
    ///         instances say the model is the average of exactly those slots, and it
    ///         verifies under `vkaDigest`. Reverts with the first check that fails.
    /// @param vkaDigest The aggregation circuit's artefact digest.
    /// @param slots The circuit's contribution slots.
    /// @param inputs The weights hashes the first `inputs.length` slots must hold.
    /// @param modelHash The weights hash of the published global model.
    /// @param proof The ezkl proof bytes.
    /// @param instances The proof's public instances `[ok, mask_0, ..., mask_{slots-1}]`.
    function checkAggregate(
        bytes32 vkaDigest,
        uint256 slots,
        bytes32[] calldata inputs,
        bytes32 modelHash,
        bytes calldata proof,
        uint256[] calldata instances
    ) external view {
        if (instances.length != slots + 1) {
            revert IZKPoTTypes.ZKPoTMalformedAggregateInstances(slots + 1, instances.length);
        }
        uint256 unit = instances[1];
        for (uint256 k = 0; k < slots; ++k) {
            // Equal non-zero entries for the contributions (any common value proves the
            // same mean), zeros for the unused slots.
            if (k < inputs.length ? instances[1 + k] != unit || unit == 0 : instances[1 + k] != 0) {
                revert IZKPoTTypes.ZKPoTAggregateWrongMask(k);
            }
        }
        for (uint256 k = 0; k < inputs.length; ++k) {
            bytes32 proven = keccak256(proof[64 * k:64 * k + 64]);
            if (proven != inputs[k]) revert IZKPoTTypes.ZKPoTAggregateInputMismatch(k, inputs[k], proven);
        }
        bytes32 model = keccak256(proof[64 * slots:64 * slots + 64]);
        if (model != modelHash) revert IZKPoTTypes.ZKPoTAggregateModelMismatch(modelHash, model);
        if (instances[0] != 1) revert IZKPoTTypes.ZKPoTNotTheAverage();
        if (!verify(vkaDigest, proof, instances)) revert IZKPoTTypes.ZKPoTInvalidAggregationProof();
    }

    /// @notice The data contracts that hold the artefact with digest `vkaDigest`, in
    ///         order (none: not registered); each holds its words after SSTORE2's STOP
    ///         byte.
    /// @param vkaDigest The artefact's digest.
    /// @return parts Their addresses.
    function artefactParts(bytes32 vkaDigest) external view returns (address[] memory parts) {
        return _parts[vkaDigest];
    }

    /// @notice The first data contract of the artefact with digest `vkaDigest` (zero:
    ///         not registered).
    /// @param vkaDigest The artefact's digest.
    /// @return The address of its first part.
    function artefactOf(bytes32 vkaDigest) external view returns (address) {
        address[] storage parts = _parts[vkaDigest];
        return parts.length == 0 ? address(0) : parts[0];
    }

    /// @notice True when `proof` verifies for `instances` under the registered artefact
    ///         `vkaDigest` (false for an artefact never registered).
    /// @dev Calls ezkl's `verifyProof(bytes proof, uint256[] instances, bytes32[] vka)` by
    ///      static call (the verifier can change no state). The call data is laid out
    ///      here rather than by `abi.encode`: the artefact's words are copied from the
    ///      data contract's code straight into their place (EXTCODECOPY), where the
    ///      encoder would copy them once more, word by word (some 25k gas). The
    ///      verifier reverts on a bad proof and on a good one returns
    ///      `(1, vkaDigest, ...)` from assembly; only its two leading words are read.
    /// @param vkaDigest The artefact's digest.
    /// @param proof The ezkl proof bytes.
    /// @param instances The proof's public instances.
    /// @return ok Whether the verifier accepts the proof.
    function verify(bytes32 vkaDigest, bytes calldata proof, uint256[] calldata instances)
        public
        view
        returns (bool ok)
    {
        address[] memory parts = _parts[vkaDigest];
        if (parts.length == 0) return false;
        address target = verifier;
        bytes4 selector = Halo2VerifierAdapter.VERIFY_PROOF_SELECTOR;
        assembly ("memory-safe") {
            let start := mload(0x40)
            mstore(start, selector)
            let head := add(start, 0x04)
            // The proof: its length, then its bytes padded to whole words.
            let padded := and(add(proof.length, 0x1f), not(0x1f))
            let proofAt := add(head, 0x60)
            mstore(proofAt, proof.length)
            mstore(add(add(proofAt, 0x20), sub(padded, 0x20)), 0)
            calldatacopy(add(proofAt, 0x20), proof.offset, proof.length)
            // The instances: their count, then the words.
            let instancesAt := add(add(proofAt, 0x20), padded)
            let instancesBytes := shl(5, instances.length)
            mstore(instancesAt, instances.length)
            calldatacopy(add(instancesAt, 0x20), instances.offset, instancesBytes)
            // The artefact: its word count, then its words, part after part (each
            // after SSTORE2's STOP byte).
            let vkaAt := add(add(instancesAt, 0x20), instancesBytes)
            let vkaBytes := 0
            let count := mload(parts)
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                let pointer := mload(add(parts, shl(5, add(i, 1))))
                let partBytes := sub(extcodesize(pointer), 1)
                extcodecopy(pointer, add(add(vkaAt, 0x20), vkaBytes), 1, partBytes)
                vkaBytes := add(vkaBytes, partBytes)
            }
            mstore(vkaAt, shr(5, vkaBytes))
            // The head: the three arguments' offsets from its start.
            mstore(head, 0x60)
            mstore(add(head, 0x20), sub(instancesAt, head))
            mstore(add(head, 0x40), sub(vkaAt, head))
            let size := sub(add(add(vkaAt, 0x20), vkaBytes), start)
            // The call writes its first two words over the scratch space.
            if staticcall(gas(), target, start, size, 0x00, 0x40) {
                ok := and(iszero(lt(returndatasize(), 0x40)), and(eq(mload(0x00), 1), eq(mload(0x20), vkaDigest)))
            }
        }
    }
}
