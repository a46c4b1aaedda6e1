// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoTTypes} from "../interfaces/IZKPoTTypes.sol";
import {CircuitRegistry} from "../verifier/CircuitRegistry.sol";

/// @title ZKPoTState
/// @notice The state of ZKPoT and the accessors every part of it shares, including
///         the stakes module that runs in ZKPoT's storage.
/// @dev Every state variable is declared here, and only here, so that ZKPoT and its
///      stakes module (ZKPoTStakesModule, reached by delegatecall) share one storage
///      layout. Each part's external functions check, then call an unguarded
///      `internal` function; helpers used by one part only are `private` to it.
abstract contract ZKPoTState is IZKPoTTypes {
    // ----------------------------------------------------------------- CONSTANTS

    /// @dev Basis points in a whole (`leaderShareBps`).
    uint256 internal constant BPS = 10_000;
    /// @dev Number of public instances of the evaluation circuit: the count.
    uint256 internal constant NUM_INSTANCES = 1;
    /// @dev A proof begins with the KZG commitment to the weights (one G1 point), then
    ///      the commitment to the batch.
    uint256 internal constant WEIGHTS_COMMITMENT_BYTES = 64;

    // ----------------------------------------------------------------- STORAGE

    /// @dev ezkl's reusable Halo2 verifier, and the registry of key artefacts.
    address internal immutable _verifier;
    address internal immutable _registry;

    uint256 internal _taskCount;
    mapping(uint256 taskId => Task) internal _tasks;
    mapping(uint256 taskId => mapping(uint256 round => Round)) internal _rounds;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address client => Contribution))) internal
        _contributions;

    /// @dev Key artefacts registered through this contract (proofLength zero: not
    ///      registered); the artefacts themselves are kept by `circuits`.
    mapping(bytes32 vkaDigest => Circuit) internal _circuits;
    /// @dev First block in which a weights hash was revealed by a verified proof, and
    ///      in which a model hash was published as a global model, under a circuit
    ///      (by circuit key, not artefact digest: no second artefact of a circuit can
    ///      open a second namespace for replays).
    ///      A contribution is refused only for a hash revealed no later than its
    ///      round's commit end: its sender could have copied that one, while nothing
    ///      revealed afterwards can reach back and void a commitment already locked.
    mapping(bytes32 circuitKey => mapping(bytes32 weightsHash => uint64 blockNumber)) internal _submittedAt;
    mapping(bytes32 circuitKey => mapping(bytes32 modelHash => uint64 blockNumber)) internal _publishedAt;
    /// @dev Weights hashes already submitted in a task (two members of one task never
    ///      share a model, whenever it was revealed).
    mapping(uint256 taskId => mapping(bytes32 weightsHash => bool)) internal _usedInTask;
    mapping(uint256 taskId => mapping(address client => Member)) internal _members;
    mapping(uint256 taskId => mapping(uint256 round => bytes32)) internal _recordHashes;
    mapping(address account => uint256) internal _credits;
    /// @dev Each round's batch commitment, fixed at the task's creation
    ///      (`TaskConfig.batchCommitments`), opened by `revealBatch`.
    mapping(uint256 taskId => mapping(uint256 round => bytes32)) internal _batchCommitments;

    /// @param verifier_ ezkl's reusable Halo2 verifier (contracts/verifier/).
    /// @param registry_ The registry of key artefacts that verifies under them.
    constructor(address verifier_, address registry_) {
        _verifier = verifier_;
        _registry = registry_;
    }

    // ----------------------------------------------------------------- INTERNAL

    /// @dev The task, checked to exist.
    function _task(uint256 taskId) internal view returns (Task storage t) {
        t = _tasks[taskId];
        if (t.status == TaskStatus.None) revert ZKPoTUnknownTask(taskId);
    }

    /// @dev The task, checked to exist and to be running.
    function _activeTask(uint256 taskId) internal view returns (Task storage t) {
        t = _task(taskId);
        if (t.status != TaskStatus.Active) revert ZKPoTTaskNotActive(taskId, t.status);
    }

    /// @dev The task and `round`, checked to be its current round and still open.
    function _openRoundOf(uint256 taskId, uint256 round) internal view returns (Task storage t, Round storage r) {
        t = _activeTask(taskId);
        if (round != t.currentRound) revert ZKPoTWrongRound(taskId, round, t.currentRound);
        r = _rounds[taskId][round];
        if (r.status != RoundStatus.Open) revert ZKPoTWrongRoundStatus(taskId, round, r.status);
    }

    /// @dev Whether round `r`'s batch was revealed, and the last block of its proof
    ///      phase: its reveal window if not (without the batch nobody can prove).
    function _proofWindow(Round storage r) internal view returns (bool revealed, uint256 endsAt) {
        revealed = r.batchDigest != bytes32(0);
        endsAt = revealed ? r.proofEnd : r.revealEnd;
    }

    /// @dev The smaller of `a` and `b`.
    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
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

    /// @dev Takes in stake a client lost: into the reward pool while the task runs, to
    ///      the publisher once it has ended.
    function _collect(Task storage t, uint256 amount) internal {
        if (t.status == TaskStatus.Active) t.rewardPool += amount;
        else _credits[t.publisher] += amount;
    }

    /// @dev keccak256 of the batch commitment `proof` carries after the weights
    ///      commitment (the commitment to the circuit's parameter column, which holds
    ///      the batch), or zero for a proof too short to carry one.
    function _batchOf(bytes calldata proof, uint256 batchLength) internal pure returns (bytes32) {
        uint256 batchEnd = WEIGHTS_COMMITMENT_BYTES + batchLength;
        return proof.length < batchEnd ? bytes32(0) : keccak256(proof[WEIGHTS_COMMITMENT_BYTES:batchEnd]);
    }

    /// @dev Whether the task's key artefact accepts `proof` with the public instance
    ///      `count`. The registry runs ezkl's verifier by static call: it cannot modify
    ///      state or re-enter us with effects. The verifier ignores trailing bytes.
    function _verifies(Task storage t, bytes calldata proof, uint256 count) internal view returns (bool) {
        uint256[] memory instances = new uint256[](NUM_INSTANCES);
        instances[0] = count;
        return CircuitRegistry(_registry).verify(t.vkaDigest, proof, instances);
    }

    /// @dev Whether `proof` is the valid proof a claim `c` stands for: the circuit's
    ///      length, the claimed weights, the round's batch, and the verifier's yes.
    function _claimHolds(Task storage t, Round storage r, Contribution storage c, bytes calldata proof)
        internal
        view
        returns (bool)
    {
        return proof.length == t.proofLength && keccak256(proof[:WEIGHTS_COMMITMENT_BYTES]) == c.weightsHash
            && _batchOf(proof, r.batchLength) == r.batchDigest && _verifies(t, proof, c.correct);
    }
}
