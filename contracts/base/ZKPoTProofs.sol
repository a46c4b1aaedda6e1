// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoT} from "../interfaces/IZKPoT.sol";
import {ZKPoTPayouts} from "./ZKPoTPayouts.sol";

/// @title ZKPoTProofs
/// @notice What a contribution must satisfy before ZKPoT counts it: it opens the
///         sender's commitment, its model is fresh (neither used in the task nor
///         public under the circuit when the commitment was locked), and its proof
///         verifies under the task's key artefact: at once (immediate), or when
///         disputed (optimistic).
/// @dev Also keeps the records that freshness is judged by: the first block in which
///      each weights hash was revealed by a verified proof, and in which each model
///      was published as a global model, per circuit.
abstract contract ZKPoTProofs is ZKPoTPayouts {
    // ----------------------------------------------------------------- VIEWS

    /// @inheritdoc IZKPoT
    function commitmentOf(address client, uint256 taskId, uint256 round, bytes32 weightsHash, bytes32 salt)
        public
        pure
        returns (bytes32)
    {
        return keccak256(abi.encode(client, taskId, round, weightsHash, salt));
    }

    /// @inheritdoc IZKPoT
    function modelSubmittedAt(bytes32 vkaDigest, bytes32 weightsHash) external view returns (uint256) {
        return _submittedAt[_circuits[vkaDigest].key][weightsHash];
    }

    /// @inheritdoc IZKPoT
    function globalModelPublishedAt(bytes32 vkaDigest, bytes32 modelHash) external view returns (uint256) {
        return _publishedAt[_circuits[vkaDigest].key][modelHash];
    }

    /// @inheritdoc IZKPoT
    function modelUsedInTask(uint256 taskId, bytes32 weightsHash) external view returns (bool) {
        return _usedInTask[taskId][weightsHash];
    }

    // ----------------------------------------------------------------- INTERNAL

    /// @dev Checks a submitted proof's shape (one instance, the circuit's length, the
    ///      claimed count its instance) and returns the weights hash it reveals
    ///      (keccak256 of the weights commitment it begins with) and the proven count.
    function _checkProofShape(Task storage t, uint256 taskId, Submission calldata s)
        internal
        view
        returns (bytes32 weightsHash, uint256 proven)
    {
        if (s.instances.length != NUM_INSTANCES) revert ZKPoTMalformedInstances(s.instances.length);
        if (s.proof.length != t.proofLength) revert ZKPoTWrongProofLength(taskId, t.proofLength, s.proof.length);
        proven = s.instances[0];
        if (s.claimedCorrect != proven) revert ZKPoTClaimMismatch(s.claimedCorrect, proven);
        // The task's proofs are longer than the commitments they begin with.
        weightsHash = keccak256(s.proof[:WEIGHTS_COMMITMENT_BYTES]);
    }

    /// @dev Checks what every contribution must satisfy, verified or claimed: the sender
    ///      committed and has not submitted yet, `weightsHash` and `salt` open its
    ///      commitment, the model is fresh, and the count is within the batch.
    function _checkContribution(
        Task storage t,
        uint256 taskId,
        uint256 round,
        Round storage r,
        Contribution storage c,
        bytes32 weightsHash,
        bytes32 salt,
        uint256 count
    ) internal view {
        if (c.submitted) revert ZKPoTAlreadySubmitted(taskId, round, msg.sender);
        if (c.commitment == bytes32(0)) revert ZKPoTNoCommitment(taskId, round, msg.sender);
        bytes32 opened = commitmentOf(msg.sender, taskId, round, weightsHash, salt);
        if (opened != c.commitment) revert ZKPoTCommitmentMismatch(msg.sender, c.commitment, opened);
        _checkFresh(taskId, round, t.circuitKey, r.commitEnd, weightsHash);
        if (count > t.evalSamples) revert ZKPoTCountOutOfRange(count, t.evalSamples);
    }

    /// @dev Refuses weights the sender could have copied rather than trained: a model
    ///      already submitted in this task, or revealed under the circuit (by a verified
    ///      proof or a claim, or published as a global model) no later than the round's
    ///      commit end.
    ///      Only the task's own history or what was public before the commitment was
    ///      locked counts, so no transaction sent after seeing the sender's proof (a
    ///      front-run `createTask`, another task's aggregate or replay) can void it.
    function _checkFresh(uint256 taskId, uint256 round, bytes32 circuit, uint64 commitEnd, bytes32 weightsHash)
        internal
        view
    {
        uint64 submitted = _submittedAt[circuit][weightsHash];
        if (_usedInTask[taskId][weightsHash] || (submitted != 0 && submitted <= commitEnd)) {
            revert ZKPoTDuplicateModel(taskId, round, weightsHash);
        }
        uint64 published = _publishedAt[circuit][weightsHash];
        if (published != 0 && published <= commitEnd) revert ZKPoTStaleModel(taskId, round, weightsHash);
    }

    /// @dev Records that a proof or a claim revealed `weightsHash` in a task, and the
    ///      first block in which it was revealed under a circuit.
    function _markSubmitted(uint256 taskId, bytes32 circuit, bytes32 weightsHash) internal {
        _usedInTask[taskId][weightsHash] = true;
        if (_submittedAt[circuit][weightsHash] == 0) _submittedAt[circuit][weightsHash] = uint64(block.number);
    }

    /// @dev Records the first block in which `modelHash` was published under a circuit.
    function _markPublished(bytes32 circuit, bytes32 modelHash) internal {
        if (_publishedAt[circuit][modelHash] == 0) _publishedAt[circuit][modelHash] = uint64(block.number);
    }
}
