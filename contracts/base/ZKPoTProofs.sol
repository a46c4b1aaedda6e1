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
    /// @dev Number of public instances of the evaluation circuit: weights hash, count.
    uint256 private constant NUM_INSTANCES = 2;

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

    /// @dev Checks that the sender may submit and that `instances[0]` and `salt` open
    ///      its commitment; returns the revealed weights hash.
    function _checkOpening(
        uint256 taskId,
        uint256 round,
        Contribution storage c,
        uint256[] calldata instances,
        bytes32 salt
    ) internal view returns (bytes32 weightsHash) {
        if (c.submitted) revert ZKPoTAlreadySubmitted(taskId, round, msg.sender);
        if (c.commitment == bytes32(0)) revert ZKPoTNoCommitment(taskId, round, msg.sender);
        if (instances.length != NUM_INSTANCES) revert ZKPoTMalformedInstances(instances.length);
        weightsHash = bytes32(instances[0]);
        bytes32 opened = commitmentOf(msg.sender, taskId, round, weightsHash, salt);
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

    /// @dev Checks that the proof's length and artefact are the task's and that it was
    ///      made on the round's revealed batch (a proof begins with the commitment to the
    ///      circuit's parameter column, which holds the batch), then has the task's
    ///      verifier check the proof. The verifier itself ignores trailing bytes.
    function _checkProof(Task storage t, Round storage r, uint256 taskId, uint256 round, Submission calldata s)
        internal
        view
    {
        if (s.proof.length != t.proofLength) revert ZKPoTWrongProofLength(taskId, t.proofLength, s.proof.length);
        bytes32 digest = keccak256(abi.encodePacked(s.vka));
        if (digest != t.vkaDigest) revert ZKPoTVerifyingKeyMismatch(taskId, t.vkaDigest, digest);
        bytes32 batch = s.proof.length < r.batchLength ? bytes32(0) : keccak256(s.proof[:r.batchLength]);
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
