// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoT} from "../interfaces/IZKPoT.sol";
import {Halo2VerifierAdapter} from "../verifier/Halo2VerifierAdapter.sol";
import {ZKPoTPayouts} from "./ZKPoTPayouts.sol";

/// @title ZKPoTProofs
/// @notice What a contribution must satisfy before ZKPoT counts it: it opens the
///         sender's commitment, its model is fresh (neither used in the task nor
///         public under the circuit when the commitment was locked), and its proof
///         verifies under the task's key artefact.
/// @dev Also keeps the records that freshness is judged by: the first block in which
///      each weights hash was revealed by a verified proof, and in which each model
///      was published as a global model, per circuit.
abstract contract ZKPoTProofs is ZKPoTPayouts {
    /// @dev Number of public instances of the evaluation circuit: the count.
    uint256 private constant NUM_INSTANCES = 1;
    /// @dev A proof begins with the KZG commitment to the weights (one G1 point), then
    ///      the commitment to the batch.
    uint256 private constant WEIGHTS_COMMITMENT_BYTES = 64;

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

    /// @dev Checks that the sender may submit, that the proof has the circuit's length
    ///      and that its weights commitment and `salt` open the sender's commitment;
    ///      returns the revealed weights hash (keccak256 of the weights commitment) and
    ///      the proven count.
    function _checkOpening(
        Task storage t,
        uint256 taskId,
        uint256 round,
        Contribution storage c,
        Submission calldata s
    ) internal view returns (bytes32 weightsHash, uint256 proven) {
        if (c.submitted) revert ZKPoTAlreadySubmitted(taskId, round, msg.sender);
        if (c.commitment == bytes32(0)) revert ZKPoTNoCommitment(taskId, round, msg.sender);
        if (s.instances.length != NUM_INSTANCES) revert ZKPoTMalformedInstances(s.instances.length);
        if (s.proof.length != t.proofLength) revert ZKPoTWrongProofLength(taskId, t.proofLength, s.proof.length);
        proven = s.instances[0];
        // The task's proofs are longer than the commitments they begin with.
        weightsHash = keccak256(s.proof[:WEIGHTS_COMMITMENT_BYTES]);
        bytes32 opened = commitmentOf(msg.sender, taskId, round, weightsHash, s.salt);
        if (opened != c.commitment) revert ZKPoTCommitmentMismatch(msg.sender, c.commitment, opened);
    }

    /// @dev Refuses weights the sender could have copied rather than trained: a model
    ///      already submitted in this task, or revealed under the circuit (by a verified
    ///      proof, or published as a global model) no later than the round's commit end.
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

    /// @dev Checks that the proof's artefact is the task's and that it was
    ///      made on the round's revealed batch (after the weights commitment, a proof
    ///      carries the commitment to the circuit's parameter column, which holds the
    ///      batch), then has the task's verifier check the proof. The verifier itself
    ///      ignores trailing bytes.
    function _checkProof(Task storage t, Round storage r, uint256 taskId, uint256 round, Submission calldata s)
        internal
        view
    {
        bytes32 digest = keccak256(abi.encodePacked(s.vka));
        if (digest != t.vkaDigest) revert ZKPoTVerifyingKeyMismatch(taskId, t.vkaDigest, digest);
        uint256 batchEnd = WEIGHTS_COMMITMENT_BYTES + r.batchLength;
        bytes32 batch =
            s.proof.length < batchEnd ? bytes32(0) : keccak256(s.proof[WEIGHTS_COMMITMENT_BYTES:batchEnd]);
        if (batch != r.batchDigest) revert ZKPoTWrongBatch(taskId, round, r.batchDigest, batch);
        // A static call: the verifier cannot modify state or re-enter us with effects.
        if (!Halo2VerifierAdapter.verify(verifier, s.proof, s.instances, s.vka, digest)) {
            revert ZKPoTProofRejected(taskId, msg.sender);
        }
    }

    /// @dev Records that a verified proof revealed `weightsHash` in a task, and the
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
