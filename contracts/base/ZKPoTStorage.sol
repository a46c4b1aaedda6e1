// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoT} from "../interfaces/IZKPoT.sol";

/// @title ZKPoTStorage
/// @notice The state of ZKPoT and the accessors every part of it shares.
/// @dev The bottom of ZKPoT's linear inheritance chain: ZKPoTStorage -> ZKPoTPayouts
///      -> ZKPoTProofs -> ZKPoTRounds -> ZKPoTTasks -> ZKPoT. Every state variable is
///      declared here, and only here, in the order of the single contract ZKPoT was,
///      so the storage layout is unchanged. Each part's external functions check,
///      then call an unguarded `internal` function; helpers used by one part only
///      are `private` to it.
abstract contract ZKPoTStorage is IZKPoT {
    // ----------------------------------------------------------------- CONSTANTS

    /// @dev Basis points in a whole (`leaderShareBps`).
    uint256 internal constant BPS = 10_000;

    // ----------------------------------------------------------------- STORAGE

    /// @inheritdoc IZKPoT
    address public immutable verifier;

    uint256 internal _taskCount;
    mapping(uint256 taskId => Task) internal _tasks;
    mapping(uint256 taskId => mapping(uint256 round => Round)) internal _rounds;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address client => Contribution))) internal
        _contributions;

    /// @dev Registered key artefacts (proofLength zero: not registered).
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
    constructor(address verifier_) {
        if (verifier_.code.length == 0) revert ZKPoTVerifierWithoutCode(verifier_);
        verifier = verifier_;
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
}
