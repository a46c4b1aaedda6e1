// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoT} from "../interfaces/IZKPoT.sol";
import {CircuitRegistry} from "../verifier/CircuitRegistry.sol";
import {ZKPoTRounds} from "./ZKPoTRounds.sol";

/// @title ZKPoTTasks
/// @notice Circuits and tasks: the registration of key artefacts, the creation and
///         cancellation of tasks, and the clients who join and leave them.
/// @dev Life of a task: Registration (clients stake) -> rounds 1..numRounds ->
///      Completed, or Registration -> Cancelled (publisher only, before the start
///      block). Round 1 is opened, for `startBlock`, when the task is created.
abstract contract ZKPoTTasks is ZKPoTRounds {
    // ----------------------------------------------------------------- EXTERNAL

    /// @inheritdoc IZKPoT
    function registerCircuit(bytes32[] calldata vka) external returns (bytes32 vkaDigest) {
        // The registry checks the artefact (reverting with our errors) and keeps it.
        bytes32 key;
        uint256 proofLength;
        (vkaDigest, key, proofLength) = CircuitRegistry(_registry).register(vka);
        if (_circuits[vkaDigest].proofLength != 0) return vkaDigest;
        // Safe cast: a proof of KeyArtefact's bounded layout is far below 2^32 bytes.
        // forge-lint: disable-next-line(unsafe-typecast)
        _circuits[vkaDigest] = Circuit({key: key, proofLength: uint32(proofLength)});
        emit CircuitRegistered(vkaDigest, proofLength, msg.sender);
    }

    /// @inheritdoc IZKPoT
    function createTask(TaskConfig calldata config) external payable returns (uint256 taskId) {
        _checkConfig(config);
        Circuit memory circuit = _circuits[config.vkaDigest];
        if (circuit.proofLength == 0) revert ZKPoTUnknownCircuit(config.vkaDigest);
        uint32 aggregationProofLength = _circuits[config.aggregationVkaDigest].proofLength;
        if (aggregationProofLength == 0) revert ZKPoTUnknownCircuit(config.aggregationVkaDigest);
        if (msg.value < config.aggregatorBond) revert ZKPoTInsufficientFunding(msg.value, config.aggregatorBond);
        taskId = _createTask(config, circuit, msg.value);
        _tasks[taskId].aggregationVkaDigest = config.aggregationVkaDigest;
        _tasks[taskId].aggregationProofLength = aggregationProofLength;
    }

    /// @inheritdoc IZKPoT
    function cancelTask(uint256 taskId) external {
        Task storage t = _activeTask(taskId);
        if (msg.sender != t.publisher) revert ZKPoTNotPublisher(taskId, msg.sender);
        if (block.number >= t.startBlock) revert ZKPoTRegistrationClosed(taskId, block.number, t.startBlock);

        uint256 refund = _endTask(t, TaskStatus.Cancelled);
        emit TaskCancelled(taskId, refund);
    }

    // ----------------------------------------------------------------- VIEWS

    /// @inheritdoc IZKPoT
    function circuitProofLength(bytes32 vkaDigest) external view returns (uint256) {
        return _circuits[vkaDigest].proofLength;
    }

    /// @inheritdoc IZKPoT
    function taskCount() external view returns (uint256) {
        return _taskCount;
    }

    /// @inheritdoc IZKPoT
    function getTask(uint256 taskId) external view returns (Task memory) {
        return _task(taskId);
    }

    /// @inheritdoc IZKPoT
    function getMember(uint256 taskId, address client) external view returns (Member memory) {
        _task(taskId);
        return _members[taskId][client];
    }

    // ----------------------------------------------------------------- INTERNAL

    /// @dev Creates a task of the sender's, funded with `value`, under `circuit`;
    ///      records its genesis (the initial model) and opens round 1 for its start.
    function _createTask(TaskConfig calldata config, Circuit memory circuit, uint256 value)
        internal
        returns (uint256 taskId)
    {
        taskId = ++_taskCount;
        Task storage t = _tasks[taskId];
        t.publisher = msg.sender;
        t.aggregator = config.aggregator;
        t.vkaDigest = config.vkaDigest;
        t.circuitKey = circuit.key;
        t.proofLength = circuit.proofLength;
        t.evalSamples = config.evalSamples;
        t.minCorrect = config.minCorrect;
        t.maxClients = config.maxClients;
        t.numRounds = config.numRounds;
        t.commitBlocks = config.commitBlocks;
        t.revealBlocks = config.revealBlocks;
        t.proofBlocks = config.proofBlocks;
        t.aggregateBlocks = config.aggregateBlocks;
        t.optimistic = config.optimistic;
        t.disputeBlocks = config.disputeBlocks;
        t.disputeBond = config.disputeBond;
        t.leaderShareBps = config.leaderShareBps;
        t.startBlock = uint64(block.number + config.registrationBlocks);
        t.minStake = config.minStake;
        t.missedProofPenalty = config.missedProofPenalty;
        t.aggregatorPenalty = config.aggregatorPenalty;
        t.status = TaskStatus.Active;
        t.aggregatorBond = config.aggregatorBond;
        t.rewardPool = value - config.aggregatorBond;
        t.globalModelHash = config.initialModelHash;
        t.globalModelCid = config.initialModelCid;
        _markPublished(circuit.key, config.initialModelHash);
        for (uint256 i = 0; i < config.numRounds; ++i) {
            _batchCommitments[taskId][i + 1] = config.batchCommitments[i];
        }

        emit TaskCreated(taskId, msg.sender, config, t.rewardPool, t.startBlock);
        RoundRecord memory genesis = RoundRecord({
            taskId: taskId,
            round: 0,
            prevRecordHash: bytes32(0),
            leader: address(0),
            leaderCorrect: 0,
            acceptedCount: 0,
            contributionsRoot: bytes32(0),
            globalModelHash: config.initialModelHash,
            globalModelCid: config.initialModelCid,
            aggregator: msg.sender,
            aggregationProofHash: bytes32(0)
        });
        _appendRecord(t, genesis);
        _openRound(taskId, t, t.startBlock);
    }

    /// @dev Checks a task's parameters, each against its range.
    function _checkConfig(TaskConfig calldata c) private pure {
        if (c.vkaDigest == bytes32(0)) revert ZKPoTInvalidTaskParameter("vkaDigest");
        if (c.aggregator == address(0)) revert ZKPoTInvalidTaskParameter("aggregator");
        if (c.evalSamples == 0) revert ZKPoTInvalidTaskParameter("evalSamples");
        if (c.minCorrect > c.evalSamples) revert ZKPoTInvalidTaskParameter("minCorrect");
        if (c.maxClients == 0) revert ZKPoTInvalidTaskParameter("maxClients");
        if (c.numRounds == 0) revert ZKPoTInvalidTaskParameter("numRounds");
        if (c.registrationBlocks == 0) revert ZKPoTInvalidTaskParameter("registrationBlocks");
        if (c.commitBlocks == 0) revert ZKPoTInvalidTaskParameter("commitBlocks");
        if (c.revealBlocks == 0) revert ZKPoTInvalidTaskParameter("revealBlocks");
        if (c.proofBlocks == 0) revert ZKPoTInvalidTaskParameter("proofBlocks");
        if (c.aggregateBlocks == 0) revert ZKPoTInvalidTaskParameter("aggregateBlocks");
        if (c.leaderShareBps > BPS) revert ZKPoTInvalidTaskParameter("leaderShareBps");
        if (c.minStake == 0) revert ZKPoTInvalidTaskParameter("minStake");
        // The penalty is also the registration bond of a client that never proves.
        if (c.missedProofPenalty == 0 || c.missedProofPenalty > c.minStake) {
            revert ZKPoTInvalidTaskParameter("missedProofPenalty");
        }
        if (c.aggregatorPenalty > c.aggregatorBond) revert ZKPoTInvalidTaskParameter("aggregatorPenalty");
        if (c.initialModelHash == bytes32(0) || bytes(c.initialModelCid).length == 0) {
            revert ZKPoTInvalidTaskParameter("initialModel");
        }
        if (bytes(c.circuitCid).length == 0) revert ZKPoTInvalidTaskParameter("circuitCid");
        if (c.batchCommitments.length != c.numRounds) revert ZKPoTInvalidTaskParameter("batchCommitments");
        // Optimistic tasks need a dispute window and a bond; immediate ones have neither.
        if (c.optimistic != (c.disputeBlocks != 0)) revert ZKPoTInvalidTaskParameter("disputeBlocks");
        if (c.optimistic != (c.disputeBond != 0)) revert ZKPoTInvalidTaskParameter("disputeBond");
    }
}
