// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {CommonBase} from "forge-std/Base.sol";
import {StdCheats} from "forge-std/StdCheats.sol";
import {StdUtils} from "forge-std/StdUtils.sol";
import {Vm} from "forge-std/Vm.sol";
import {ZKPoT} from "../../../contracts/ZKPoT.sol";
import {IZKPoTTypes} from "../../../contracts/interfaces/IZKPoTTypes.sol";
import {ProofFixture} from "../ZKPoTBase.sol";

/// @notice Drives ZKPoT for the invariant tests: one task at a time (a new one once the
///         current one is over) run by a publisher, an aggregator and five clients, with
///         bounded random actions that seek their phase (an action that needs a later
///         phase of the current round rolls the chain forward to it, never backwards).
///         Every round's batch commitment is to the batch of the fixtures' proofs; the
///         publisher reveals it when an action moves past the commit phase (now and then
///         it stays away, or reveals wrongly, and the reveal is missed).
///         Every call to ZKPoT is wrapped in try/catch, so a rejected call only counts in
///         the statistics; an action that would do nothing at all in the current state is
///         discarded (vm.assume), so the run's depth goes to calls that do something. The
///         ghost state records what went in and out, every corrupted submission, and every
///         round record, rebuilt from RoundRecorded events alone.
///         Half the tasks are optimistic: clients then mostly claim (honestly, or with
///         forged proofs whose bytes they keep), and anyone disputes claims with the
///         bytes or challenges them without, which the client answers when its proof
///         is valid.
contract ZKPoTHandler is CommonBase, StdCheats, StdUtils, IZKPoTTypes {
    uint256 public constant ACTORS = 5;

    ZKPoT public immutable zkpot;
    bytes32 public immutable vkaDigest;
    uint32 public immutable evalSamples;
    address public immutable publisher;
    address public immutable aggregator;

    bytes32[] internal vka;
    ProofFixture[] internal fixtures;
    /// @dev The evaluation batch of every fixture's proof (its polynomial commitment), and
    ///      a proof of model a on another batch.
    bytes internal batch;
    bytes internal otherBatchProof;
    address[] internal actors;
    address[] internal accounts;
    uint256[] internal taskIds;

    /// @notice Wei sent to ZKPoT (task funding and stakes) and received from it (withdrawals).
    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    /// @notice Submissions whose proof, instances or opening were corrupted, and how many of
    ///         those the contract accepted (must stay zero).
    uint256 public ghostCorruptedSubmissions;
    uint256 public ghostCorruptedAccepted;
    /// @notice Reveals that did not open the round's batch commitment or came from another
    ///         account than the publisher, and how many of those the contract took (must
    ///         stay zero).
    uint256 public ghostCorruptedReveals;
    uint256 public ghostCorruptedRevealsAccepted;
    /// @notice Honest submissions refused as stale although their hash was published only
    ///         by a front-runner, after the round's commit end (must stay zero), and how
    ///         many honest submissions followed such a front-run.
    uint256 public ghostVoidedByFrontRun;
    uint256 public ghostFrontRunThenSubmitted;
    /// @notice Optimistic claims: valid claims struck when their bytes were judged,
    ///         invalid ones upheld, and claims taken by an immediate task (all must
    ///         stay zero).
    uint256 public ghostValidClaimsStruck;
    uint256 public ghostInvalidClaimsUpheld;
    uint256 public ghostClaimsInImmediateTasks;
    /// @notice Rewards credited by claimReward, per task.
    mapping(uint256 taskId => uint256) public ghostClaimed;
    /// @notice The fold of accepted contributions of each round, in the order they verified.
    mapping(uint256 taskId => mapping(uint256 round => bytes32)) public ghostContributionsRoot;
    /// @notice Successful (and rejected) calls per action, for the run summary.
    mapping(bytes32 name => uint256) public calls;

    mapping(uint256 taskId => RoundRecord[]) internal _records;
    mapping(uint256 taskId => bytes32[]) internal _emittedHashes;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address actor => bytes32))) internal _committed;
    /// @dev The bytes each optimistic claim's proof hash stands for, and whether they
    ///      are the valid proof of the claim.
    mapping(uint256 taskId => mapping(uint256 round => mapping(address actor => bytes))) internal _claimedProof;
    mapping(uint256 taskId => mapping(uint256 round => mapping(address actor => bool))) internal _claimValid;
    /// @dev Block in which the front-runner first published a hash (zero: never).
    mapping(bytes32 weightsHash => uint256 blockNumber) internal _frontRunAt;

    constructor(
        ZKPoT zkpot_,
        bytes32[] memory vka_,
        bytes32 vkaDigest_,
        uint32 evalSamples_,
        ProofFixture[] memory fixtures_,
        bytes memory batch_,
        bytes memory otherBatchProof_
    ) {
        zkpot = zkpot_;
        vka = vka_;
        vkaDigest = vkaDigest_;
        evalSamples = evalSamples_;
        for (uint256 i = 0; i < fixtures_.length; i++) {
            fixtures.push(fixtures_[i]);
        }
        batch = batch_;
        otherBatchProof = otherBatchProof_;
        publisher = makeAddr("handler publisher");
        aggregator = makeAddr("handler aggregator");
        vm.deal(publisher, 1_000_000 ether);
        for (uint256 i = 0; i < ACTORS; i++) {
            address a = makeAddr(string.concat("actor", vm.toString(i)));
            vm.deal(a, 10_000 ether);
            actors.push(a);
            accounts.push(a);
        }
        accounts.push(publisher);
        accounts.push(aggregator);
    }

    /// @dev Collects the RoundRecorded events (the record and the hash emitted with it) and
    ///      the TaskCompleted events of the action's calls.
    modifier recorded() {
        vm.recordLogs();
        _;
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; i++) {
            if (logs[i].emitter != address(zkpot)) continue;
            bytes32 topic = logs[i].topics[0];
            if (topic == RoundRecorded.selector) {
                RoundRecord memory rec = abi.decode(logs[i].data, (RoundRecord));
                _records[uint256(logs[i].topics[1])].push(rec);
                _emittedHashes[uint256(logs[i].topics[1])].push(logs[i].topics[3]);
                if (rec.round == 0) continue;
                if (rec.aggregator != address(0)) calls["round.published"]++;
                else if (rec.acceptedCount == 0) calls["round.empty"]++;
                else calls["round.aggregatorMissed"]++;
            } else if (topic == TaskCompleted.selector) {
                calls["task.completed"]++;
            } else if (topic == RevealMissed.selector) {
                calls["round.revealMissed"]++;
            }
        }
    }

    // ================================================================= actions

    /// @notice Creates a task with a seeded configuration and pool once the current task is
    ///         over (or none exists), and registers each client with probability 3/4.
    ///         The seed is hashed, so that every field is spread evenly over its range.
    function createTask(uint256 seed, uint256 pool) external recorded {
        vm.assume(taskIds.length == 0 || zkpot.getTask(currentTask()).status != TaskStatus.Active);
        seed = uint256(keccak256(abi.encode(seed)));
        TaskConfig memory c;
        c.vkaDigest = vkaDigest;
        c.aggregator = aggregator;
        c.aggregatorKey = bytes32(uint256(1));
        c.evalSamples = evalSamples;
        c.minCorrect = uint32(_bound(seed, 2, 4)); // above 2 refuses fixture b (count 2)
        c.maxClients = uint32(2 + (seed >> 8) % 4);
        c.numRounds = uint32(1 + (seed >> 16) % 3);
        c.registrationBlocks = uint32(1 + (seed >> 24) % 4);
        c.commitBlocks = uint32(2 + (seed >> 32) % 3);
        c.revealBlocks = uint32(1 + (seed >> 240) % 3);
        c.proofBlocks = uint32(2 + (seed >> 40) % 3);
        c.aggregateBlocks = uint32(1 + (seed >> 48) % 3);
        c.leaderShareBps = uint16((seed >> 56) % 10_001);
        c.minStake = 0.1 ether + (seed >> 72) % 1 ether;
        c.missedProofPenalty = 1 + (c.minStake - 1) * ((seed >> 136) % 101) / 100;
        c.aggregatorBond = (seed >> 144) % 5 ether;
        c.aggregatorPenalty = c.aggregatorBond * ((seed >> 208) % 101) / 100;
        if ((seed >> 248) % 2 == 0) {
            c.optimistic = true;
            c.disputeBlocks = uint32(1 + (seed >> 250) % 3);
            c.disputeBond = 1 + (seed >> 176) % 1 ether;
        }
        c.initialModelHash = keccak256(abi.encode("initial model", taskIds.length));
        c.initialModelCid = "bafkreiinitial";
        c.circuitCid = "bafkreicircuit";
        c.batchCommitments = new bytes32[](c.numRounds);
        for (uint256 r = 0; r < c.numRounds; r++) {
            c.batchCommitments[r] = keccak256(abi.encode(keccak256(batch), batchSalt(r + 1)));
        }
        uint256 value = c.aggregatorBond + _bound(pool, 0, 50 ether);

        vm.prank(publisher);
        try zkpot.createTask{value: value}(c) returns (uint256 id) {
            ghostDeposited += value;
            taskIds.push(id);
            calls["create"]++;
        } catch {
            calls["create.rejected"]++;
            return;
        }
        uint256 enrol = uint256(keccak256(abi.encode(seed)));
        for (uint256 i = 0; i < ACTORS; i++) {
            if (_picked(enrol, i)) _register(actors[i], c.minStake + (enrol >> (16 + 8 * i)) % c.minStake);
        }
    }

    /// @notice A client registers with a seeded stake (sometimes below the minimum), during
    ///         the registration phase (after it, one time in eight, to see it refused).
    function register(uint256 actorSeed, uint256 stakeSeed) external recorded {
        vm.assume(taskIds.length != 0 && (_registering() || actorSeed % 8 == 0));
        uint256 minStake = zkpot.getTask(currentTask()).minStake;
        _register(actors[actorSeed % ACTORS], _bound(stakeSeed, minStake * 3 / 4, minStake * 2));
    }

    /// @notice The publisher (one time in four; else a client) tries to cancel the task,
    ///         during the registration phase (after it, one time in eight).
    function cancelTask(uint256 callerSeed) external recorded {
        vm.assume(taskIds.length != 0 && (_registering() || (callerSeed >> 16) % 8 == 0));
        address caller = callerSeed % 4 == 0 ? publisher : actors[(callerSeed >> 8) % ACTORS];
        vm.prank(caller);
        try zkpot.cancelTask(currentTask()) {
            calls["cancel"]++;
        } catch {
            calls["cancel.rejected"]++;
        }
    }

    /// @notice Each client, with probability 3/4, commits to a fixture's weights hash, or
    ///         one time in eight to a junk hash no proof opens (see `_model` for the others). Ends the registration phase.
    function commit(uint256 seed) external recorded {
        (bool active, uint256 id, ZKPoT.Task memory t, ZKPoT.Round memory r) = _current();
        // Late commitments are refused: try them one time in eight.
        vm.assume(active && (block.number <= r.commitEnd || seed % 8 == 0));
        if (block.number < r.openBlock) vm.roll(r.openBlock);
        uint256 round = t.currentRound;
        seed = uint256(keccak256(abi.encode(seed)));
        for (uint256 i = 0; i < ACTORS; i++) {
            if (!_picked(seed, i)) continue;
            address actor = actors[i];
            uint256 choice = (seed >> (16 + 8 * i)) % 8;
            bytes32 w = choice == 7 ? keccak256(abi.encode("junk", id, round, actor)) : _model(seed >> (64 + 8 * i));
            bytes32 commitment = keccak256(abi.encode(actor, id, round, w, saltOf(actor, id, round)));
            vm.prank(actor);
            try zkpot.commit(id, round, commitment) {
                _committed[id][round][actor] = w;
                calls["commit"]++;
            } catch {
                calls["commit.rejected"]++;
            }
        }
    }

    /// @notice Each committed client, with probability 3/4, submits: an honest submission
    ///         (10 times in 16) or a corrupted one (a flipped proof byte, a forged count,
    ///         another fixture's proof or a proof on another batch, a wrong salt);
    ///         revealing a junk commitment is a forgery too. In an optimistic task it
    ///         claims three times in four (see `_submitClaim`) and proves otherwise; in
    ///         an immediate task it tries a claim one time in sixteen, to see it refused. Moves from the commit phase
    ///         into the reveal window, where the publisher reveals the batch (one time in
    ///         sixteen it stays away), then to a seeded block of the proof phase.
    function submitProof(uint256 seed) external recorded {
        (bool active, uint256 id, ZKPoT.Task memory t, ZKPoT.Round memory r) = _current();
        vm.assume(active);
        seed = uint256(keccak256(abi.encode(seed)));
        bool fromCommitPhase = block.number >= r.openBlock && block.number <= r.commitEnd;
        if (fromCommitPhase) vm.roll(r.commitEnd + 1 + (seed >> 128) % t.revealBlocks);
        if ((seed >> 96) % 16 != 0) _revealIfDue(id, t.currentRound, r, seed);
        if (fromCommitPhase) vm.roll(block.number + (seed >> 160) % (r.proofEnd - block.number + 1));
        bool any;
        for (uint256 i = 0; i < ACTORS; i++) {
            address actor = actors[i];
            bytes32 w = _committed[id][t.currentRound][actor];
            if (!_picked(seed, i) || w == bytes32(0) || zkpot.getContribution(id, t.currentRound, actor).submitted) {
                continue;
            }
            any = true;
            uint256 pick = uint256(keccak256(abi.encode(seed, i)));
            bool claims = t.optimistic ? (pick >> 200) % 4 != 0 : (pick >> 200) % 16 == 0;
            if (claims) {
                _submitClaim(id, t.currentRound, actor, w, pick);
            } else {
                _submit(id, t.currentRound, actor, w, pick);
            }
        }
        vm.assume(any);
    }

    /// @notice Anyone closes the round; from the proof phase (or, now and then, an empty
    ///         commit phase) the chain first rolls to a seeded block after the proof phase
    ///         and its dispute window (and the answer window, if a challenge is open).
    function closeRound(uint256 callerSeed, uint256 offset) external recorded {
        (bool active, uint256 id, ZKPoT.Task memory t, ZKPoT.Round memory r) = _current();
        vm.assume(active && block.number >= r.openBlock);
        if (_seeksPastProofPhase(r, offset)) {
            _revealBeforeSeeking(id, t.currentRound, r, offset);
            uint256 end = r.openChallenges != 0 ? r.answerEnd : r.disputeEnd;
            vm.roll(end + 1 + offset % (uint256(t.aggregateBlocks) + 2));
        }
        _close(id, actors[callerSeed % ACTORS]);
    }

    /// @notice The aggregator publishes a seeded model; from the proof phase (or, now and
    ///         then, an empty commit phase) the chain first rolls to a seeded block of the
    ///         aggregate phase. In an optimistic task it first closes the round over the
    ///         contributions that stand.
    function publishGlobalModel(uint256 offset, uint256 modelSeed) external recorded {
        (bool active, uint256 id, ZKPoT.Task memory t, ZKPoT.Round memory r) = _current();
        vm.assume(active && block.number >= r.openBlock);
        if (_seeksPastProofPhase(r, modelSeed)) {
            _revealBeforeSeeking(id, t.currentRound, r, modelSeed);
            vm.roll(r.answerEnd + 1 + offset % t.aggregateBlocks);
        }
        if (t.optimistic && zkpot.getRound(id, t.currentRound).status == RoundStatus.Open) _close(id, aggregator);
        vm.prank(aggregator);
        try zkpot.publishGlobalModel(id, t.currentRound, _unproven(keccak256(abi.encode(modelSeed)))) {
            calls["publish"]++;
        } catch {
            calls["publish.rejected"]++;
        }
    }

    /// @notice The aggregator stays away: the chain rolls past the aggregate deadline (from the
    ///         proof phase on, or now and then an empty commit phase), anyone closes the
    ///         round if it is still open, and anyone finalises it.
    function finalizeWithoutAggregator(uint256 callerSeed) external recorded {
        (bool active, uint256 id, ZKPoT.Task memory t, ZKPoT.Round memory r) = _current();
        vm.assume(active && block.number >= r.openBlock);
        bool seeks = _seeksPastProofPhase(r, callerSeed);
        if (seeks) _revealBeforeSeeking(id, t.currentRound, r, callerSeed);
        if (seeks || (block.number > r.proofEnd && block.number <= r.aggregateEnd)) vm.roll(r.aggregateEnd + 1);
        address caller = actors[callerSeed % ACTORS];
        if (r.status == RoundStatus.Open) _close(id, caller);
        vm.prank(caller);
        try zkpot.finalizeWithoutAggregator(id) {
            calls["finalize"]++;
        } catch {
            calls["finalize.rejected"]++;
        }
    }

    /// @notice An attacker reads the hash a committed client reveals in its pending
    ///         submission and gets a free task on the same circuit, naming that hash as
    ///         its initial model, mined first; then the client's honest submission is
    ///         mined. Moves from the commit phase into the reveal window, where the
    ///         publisher reveals the batch.
    function frontRun(uint256 seed) external recorded {
        (bool active, uint256 id, ZKPoT.Task memory t, ZKPoT.Round memory r) = _current();
        vm.assume(active && block.number >= r.openBlock && block.number <= r.proofEnd);
        address victim = actors[seed % ACTORS];
        bytes32 w = _committed[id][t.currentRound][victim];
        vm.assume(w != bytes32(0) && !zkpot.getContribution(id, t.currentRound, victim).submitted);
        if (block.number <= r.commitEnd) vm.roll(r.commitEnd + 1 + (seed >> 128) % t.revealBlocks);
        _revealIfDue(id, t.currentRound, r, uint256(keccak256(abi.encode(seed))));
        TaskConfig memory c;
        c.vkaDigest = vkaDigest;
        c.aggregator = makeAddr("front-runner");
        c.evalSamples = evalSamples;
        c.maxClients = 1;
        c.numRounds = 1;
        c.registrationBlocks = 1;
        c.commitBlocks = 1;
        c.revealBlocks = 1;
        c.proofBlocks = 1;
        c.aggregateBlocks = 1;
        c.minStake = 1;
        c.missedProofPenalty = 1;
        c.initialModelHash = w;
        c.initialModelCid = "bafkreistolen";
        c.circuitCid = "bafkreicircuit";
        c.batchCommitments = new bytes32[](1);
        c.batchCommitments[0] = keccak256("the front-runner's batch");
        vm.prank(makeAddr("front-runner"));
        try zkpot.createTask(c) {
            if (_frontRunAt[w] == 0) _frontRunAt[w] = block.number;
            calls["frontRun"]++;
        } catch {
            calls["frontRun.rejected"]++;
        }
        _submit(id, t.currentRound, victim, w, 0); // honest
    }

    /// @notice The publisher (or, now and then, a client) reveals the round's batch, rightly
    ///         or (one time in four) wrongly: a wrong salt, a batch one bit off, no CID.
    ///         From the commit phase (once someone committed, or one time in eight) the
    ///         chain first rolls to a seeded block of the reveal window; after the window,
    ///         one time in eight, the late reveal is tried anyway.
    function revealBatch(uint256 seed) external recorded {
        (bool active, uint256 id, ZKPoT.Task memory t, ZKPoT.Round memory r) = _current();
        vm.assume(active && block.number >= r.openBlock && r.batchDigest == bytes32(0));
        vm.assume(block.number <= r.revealEnd || seed % 8 == 0);
        vm.assume(block.number > r.commitEnd || r.committedCount > 0 || (seed >> 3) % 8 == 0);
        if (block.number <= r.commitEnd) vm.roll(r.commitEnd + 1 + (seed >> 128) % t.revealBlocks);
        _reveal(id, t.currentRound, seed >> 8);
    }

    /// @notice The publisher stays away: from the commit phase or the reveal window of a
    ///         round whose batch is not revealed, the chain rolls to a seeded block past
    ///         the window and anyone closes the round (its committed clients compensated
    ///         from the bond). Three calls in four are discarded, so that reveals are
    ///         missed now and then only.
    function missReveal(uint256 seed) external recorded {
        (bool active, uint256 id, ZKPoT.Task memory t, ZKPoT.Round memory r) = _current();
        vm.assume(active && seed % 4 == 0 && block.number >= r.openBlock);
        vm.assume(r.batchDigest == bytes32(0) && block.number <= r.revealEnd);
        vm.roll(r.revealEnd + 1 + (seed >> 8) % (uint256(t.proofBlocks) + t.aggregateBlocks + 2));
        calls["missReveal"]++;
        _close(id, actors[(seed >> 64) % ACTORS]);
    }

    /// @notice Anyone disputes a claim of the current round that can still be disputed:
    ///         with the claimed bytes (three times in four; one time in sixteen other
    ///         bytes, refused) or without (a challenge), posting the bond (one time in
    ///         sixteen a wrong one, refused). From the proof phase, one time in two the
    ///         chain first rolls into the dispute window.
    function dispute(uint256 seed) external recorded {
        (bool active, uint256 id, ZKPoT.Task memory t, ZKPoT.Round memory r) = _current();
        vm.assume(active && t.optimistic && r.status == RoundStatus.Open && r.batchDigest != bytes32(0));
        vm.assume(block.number > r.commitEnd && block.number <= r.disputeEnd);
        (bool found, address client) = _disputable(id, t.currentRound, seed);
        vm.assume(found);
        if (block.number <= r.proofEnd && (seed >> 8) % 2 == 0) {
            vm.roll(r.proofEnd + 1 + (seed >> 16) % t.disputeBlocks);
        }
        uint256 mode = (seed >> 24) % 16;
        bytes memory proof = mode < 4 ? bytes("") : _claimedProof[id][t.currentRound][client];
        if (mode == 4) proof = fixtures[(seed >> 32) % fixtures.length].proof;
        bool wrongBytes = mode == 4 && keccak256(proof) != keccak256(_claimedProof[id][t.currentRound][client]);
        uint256 bond = mode == 5 ? t.disputeBond + 1 : t.disputeBond;
        vm.prank(actors[(seed >> 40) % ACTORS]);
        try zkpot.dispute{value: bond}(id, t.currentRound, client, proof) {
            ghostDeposited += bond;
            if (wrongBytes || bond != t.disputeBond) ghostCorruptedAccepted++;
            if (proof.length == 0) calls["dispute.challenge"]++;
            else _judged(id, t.currentRound, client, "dispute");
        } catch {
            calls["dispute.rejected"]++;
        }
    }

    /// @notice A challenge of the current round is settled: a client with a valid proof
    ///         answers it in time (three times in four), else the chain rolls past the
    ///         answer window and anyone strikes the claim.
    function settleChallenge(uint256 seed) external recorded {
        (bool active, uint256 id, ZKPoT.Task memory t, ZKPoT.Round memory r) = _current();
        vm.assume(active && r.openChallenges != 0);
        address client;
        for (uint256 i = 0; i < ACTORS; i++) {
            address a = actors[(seed + i) % ACTORS];
            if (zkpot.getContribution(id, t.currentRound, a).challenger != address(0)) client = a;
        }
        bool answers = _claimValid[id][t.currentRound][client] && (seed >> 8) % 4 != 0 && block.number <= r.answerEnd;
        if (!answers && block.number <= r.answerEnd) vm.roll(r.answerEnd + 1 + (seed >> 16) % t.aggregateBlocks);
        bytes memory proof = answers ? _claimedProof[id][t.currentRound][client] : bytes("");
        vm.prank(answers ? client : actors[(seed >> 24) % ACTORS]);
        try zkpot.settleChallenge(id, t.currentRound, client, proof) {
            _judged(id, t.currentRound, client, answers ? "answer" : "unanswered");
        } catch {
            calls["settle.rejected"]++;
        }
    }

    /// @notice A client of the current task tops up its stake by a seeded amount,
    ///         preferring one below the minimum (slashed, or struck).
    function topUpStake(uint256 actorSeed, uint256 amount) external recorded {
        (bool active, uint256 id, ZKPoT.Task memory t,) = _current();
        vm.assume(active);
        address client = actors[actorSeed % ACTORS];
        for (uint256 i = 0; i < ACTORS; i++) {
            address a = actors[(actorSeed + i) % ACTORS];
            ZKPoT.Member memory m = zkpot.getMember(id, a);
            if (m.registered && m.stake < t.minStake) client = a;
        }
        amount = _bound(amount, 0, 2 * t.minStake);
        vm.prank(client);
        try zkpot.topUpStake{value: amount}(id) {
            ghostDeposited += amount;
            calls["topUp"]++;
        } catch {
            calls["topUp.rejected"]++;
        }
    }

    /// @notice A client leaves a seeded task (between rounds, with no proof pending).
    function leave(uint256 taskSeed, uint256 actorSeed) external recorded {
        vm.assume(taskIds.length != 0);
        vm.prank(actors[actorSeed % ACTORS]);
        try zkpot.leave(taskIds[taskSeed % taskIds.length]) {
            calls["leave"]++;
        } catch {
            calls["leave.rejected"]++;
        }
    }

    /// @notice Rolls the chain forward by one block.
    function advance() external recorded {
        vm.roll(block.number + 1);
    }

    /// @notice Anyone slashes a client of a seeded task, preferring one with a pending proof.
    function slashMissedProof(uint256 taskSeed, uint256 actorSeed) external recorded {
        vm.assume(taskIds.length != 0);
        uint256 id = taskIds[taskSeed % taskIds.length];
        address client = actors[actorSeed % ACTORS];
        for (uint256 i = 0; i < ACTORS; i++) {
            address a = actors[(actorSeed % ACTORS + i) % ACTORS];
            if (zkpot.getMember(id, a).pendingRound != 0) {
                client = a;
                break;
            }
        }
        vm.prank(actors[(actorSeed >> 8) % ACTORS]);
        try zkpot.slashMissedProof(id, client) {
            calls["slash"]++;
        } catch {
            calls["slash.rejected"]++;
        }
    }

    /// @notice A client claims each of its unclaimed accepted contributions in a seeded task
    ///         (refused while the round is open), and its compensation for each finalised
    ///         round in which it committed and the batch was never revealed; with none,
    ///         one time in eight it claims a seeded round anyway, to see it refused.
    function claimReward(uint256 taskSeed, uint256 actorSeed) external recorded {
        vm.assume(taskIds.length != 0);
        uint256 id = taskIds[taskSeed % taskIds.length];
        address actor = actors[actorSeed % ACTORS];
        uint256 rounds = zkpot.getTask(id).currentRound;
        bool any;
        for (uint256 round = 1; round <= rounds; round++) {
            ZKPoT.Contribution memory c = zkpot.getContribution(id, round, actor);
            ZKPoT.Round memory r = zkpot.getRound(id, round);
            bool compensated =
                c.commitment != bytes32(0) && r.batchDigest == bytes32(0) && r.status == RoundStatus.Finalized;
            if (!(c.accepted || compensated) || c.rewardClaimed) continue;
            any = true;
            if (compensated) calls["claim.compensation"]++;
            _claim(id, round, actor);
        }
        if (!any) {
            vm.assume((actorSeed >> 8) % 8 == 0);
            _claim(id, 1 + (actorSeed >> 16) % rounds, actor);
        }
    }

    /// @notice A client releases its stake in a seeded task.
    function releaseStake(uint256 taskSeed, uint256 actorSeed) external recorded {
        vm.assume(taskIds.length != 0);
        vm.prank(actors[actorSeed % ACTORS]);
        try zkpot.releaseStake(taskIds[taskSeed % taskIds.length]) {
            calls["release"]++;
        } catch {
            calls["release.rejected"]++;
        }
    }

    /// @notice A seeded account (client, publisher or aggregator) withdraws its credit.
    function withdraw(uint256 accountSeed) external recorded {
        address account = accounts[accountSeed % accounts.length];
        uint256 before = account.balance;
        vm.prank(account);
        try zkpot.withdraw() {
            ghostWithdrawn += account.balance - before;
            calls["withdraw"]++;
        } catch {
            calls["withdraw.rejected"]++;
        }
    }

    // ================================================================= views for the invariants

    function currentTask() public view returns (uint256) {
        return taskIds[taskIds.length - 1];
    }

    function allTasks() external view returns (uint256[] memory) {
        return taskIds;
    }

    function allActors() external view returns (address[] memory) {
        return actors;
    }

    function allAccounts() external view returns (address[] memory) {
        return accounts;
    }

    function fixtureCount() external view returns (uint256) {
        return fixtures.length;
    }

    function fixtureOf(uint256 i) external view returns (bytes32 weightsHash, uint256 correct) {
        return (fixtures[i].weightsHash, fixtures[i].correct);
    }

    function recordCount(uint256 taskId) external view returns (uint256) {
        return _records[taskId].length;
    }

    /// @notice Record i of a task as decoded from its RoundRecorded event, and the record
    ///         hash that event carried.
    function recordAt(uint256 taskId, uint256 i) external view returns (RoundRecord memory, bytes32) {
        return (_records[taskId][i], _emittedHashes[taskId][i]);
    }

    function saltOf(address actor, uint256 taskId, uint256 round) public pure returns (bytes32) {
        return keccak256(abi.encode("salt", actor, taskId, round));
    }

    /// @notice The publisher's salt for the batch commitment of `round`.
    function batchSalt(uint256 round) public pure returns (bytes32) {
        return keccak256(abi.encode("batch salt", round));
    }

    // ================================================================= internals

    /// @dev The current task, its current round, and whether it is still running.
    function _current() internal view returns (bool active, uint256 id, ZKPoT.Task memory t, ZKPoT.Round memory r) {
        if (taskIds.length == 0) return (false, 0, t, r);
        id = currentTask();
        t = zkpot.getTask(id);
        r = zkpot.getRound(id, t.currentRound);
        active = t.status == TaskStatus.Active;
    }

    /// @dev Whether client i is picked by `seed` (probability 3/4).
    function _picked(uint256 seed, uint256 i) internal pure returns (bool) {
        return (seed >> (2 * i)) & 3 != 0;
    }

    /// @dev Whether a phase-seeking action rolls the round past its proof phase: from the
    ///      reveal window or the proof phase, yes; from the commit phase, only one time in
    ///      eight and only if nobody committed (a commitment is never denied its proof
    ///      phase), else the call is discarded, so that rounds are not mostly left empty.
    function _seeksPastProofPhase(ZKPoT.Round memory r, uint256 seed) internal view returns (bool) {
        if (block.number > r.proofEnd) return false;
        if (block.number > r.commitEnd) return true;
        vm.assume(r.committedCount == 0 && seed % 8 == 0);
        return true;
    }

    /// @dev Whether the current task exists, runs and is still in its registration phase.
    function _registering() internal view returns (bool) {
        if (taskIds.length == 0) return false;
        ZKPoT.Task memory t = zkpot.getTask(currentTask());
        return t.status == TaskStatus.Active && block.number < t.startBlock;
    }

    /// @dev The publisher reveals the round's batch honestly if it is due (not revealed
    ///      yet, and the chain in the reveal window), one time in four after a corrupted
    ///      reveal (seeded) that must be refused.
    function _revealIfDue(uint256 id, uint256 round, ZKPoT.Round memory r, uint256 seed) internal {
        if (r.batchDigest != bytes32(0) || block.number <= r.commitEnd || block.number > r.revealEnd) return;
        if ((seed >> 32) % 4 == 0) _reveal(id, round, ((seed >> 48) << 8) | (12 + (seed >> 40) % 4));
        _reveal(id, round, 0);
    }

    /// @dev Before a phase-seeking action rolls the round past its proof phase, the
    ///      publisher reveals a batch still due (from the commit phase, at commitEnd + 1),
    ///      except one time in sixteen: then the reveal is missed.
    function _revealBeforeSeeking(uint256 id, uint256 round, ZKPoT.Round memory r, uint256 seed) internal {
        if (r.batchDigest != bytes32(0) || block.number > r.revealEnd || (seed >> 200) % 16 == 0) return;
        if (block.number <= r.commitEnd) vm.roll(r.commitEnd + 1);
        _revealIfDue(id, round, r, uint256(keccak256(abi.encode(seed))));
    }

    /// @dev One reveal of the round's batch, honest or corrupted as `pick` says: pick % 16
    ///      is the mode (0-11 honest, 12 a wrong salt, 13 the batch one bit off, 14 no
    ///      CID, 15 sent by a client).
    function _reveal(uint256 id, uint256 round, uint256 pick) internal {
        uint256 mode = pick % 16;
        bytes memory opening = batch;
        bytes32 salt = batchSalt(round);
        string memory cid = "bafkreibatch";
        address sender = publisher;
        if (mode == 12) salt = keccak256(abi.encode(salt));
        if (mode == 13) {
            uint256 at = (pick >> 8) % opening.length;
            opening[at] = opening[at] ^ bytes1(uint8(_bound(pick >> 16, 1, 255)));
        }
        if (mode == 14) cid = "";
        if (mode == 15) sender = actors[(pick >> 8) % ACTORS];
        bool corrupted = mode >= 12;
        if (corrupted) ghostCorruptedReveals++;
        vm.prank(sender);
        try zkpot.revealBatch(id, round, opening, salt, cid) {
            if (corrupted) ghostCorruptedRevealsAccepted++;
            calls["reveal"]++;
        } catch {
            calls["reveal.rejected"]++;
        }
    }

    function _register(address actor, uint256 stake) internal {
        vm.prank(actor);
        try zkpot.register{value: stake}(currentTask()) {
            ghostDeposited += stake;
            calls["register"]++;
        } catch {
            calls["register.rejected"]++;
        }
    }

    function _claim(uint256 id, uint256 round, address actor) internal {
        uint256 before = zkpot.creditOf(actor);
        vm.prank(actor);
        try zkpot.claimReward(id, round) {
            ghostClaimed[id] += zkpot.creditOf(actor) - before;
            calls["claim"]++;
        } catch {
            calls["claim.rejected"]++;
        }
    }

    /// @dev Anyone closes the current round. In an optimistic task, challenges whose
    ///      answer window is over are first struck, and the list of what stands is
    ///      built from the contract's state (one time in eight with its last entry
    ///      dropped, to see it refused); the ghost root is then folded over it.
    function _close(uint256 id, address caller) internal {
        ZKPoT.Task memory t = zkpot.getTask(id);
        uint256 round = t.currentRound;
        if (t.optimistic) _strikeUnanswered(id, round);
        address[] memory standing = t.optimistic ? _standing(id, round) : new address[](0);
        bool truncated = standing.length != 0 && uint256(keccak256(abi.encode(id, round, block.number))) % 8 == 0;
        if (truncated) {
            assembly {
                mstore(standing, sub(mload(standing), 1))
            }
        }
        vm.prank(caller);
        try zkpot.closeRound(id, standing) {
            if (truncated) ghostCorruptedAccepted++;
            for (uint256 i = 0; i < standing.length; i++) {
                ZKPoT.Contribution memory c = zkpot.getContribution(id, round, standing[i]);
                ghostContributionsRoot[id][round] =
                    keccak256(abi.encode(ghostContributionsRoot[id][round], standing[i], c.weightsHash, c.correct));
            }
            calls["close"]++;
        } catch {
            calls["close.rejected"]++;
        }
    }

    /// @dev The accepted contributions of a round that were not struck, in submission
    ///      order.
    function _standing(uint256 id, uint256 round) internal view returns (address[] memory list) {
        list = new address[](ACTORS);
        uint256[] memory index = new uint256[](ACTORS);
        uint256 n;
        for (uint256 i = 0; i < ACTORS; i++) {
            ZKPoT.Contribution memory c = zkpot.getContribution(id, round, actors[i]);
            if (!c.accepted) continue;
            uint256 at = n++;
            for (; at > 0 && index[at - 1] > c.index; at--) {
                (list[at], index[at]) = (list[at - 1], index[at - 1]);
            }
            (list[at], index[at]) = (actors[i], c.index);
        }
        assembly {
            mstore(list, n)
        }
    }

    /// @dev Strikes every challenged claim of the round whose answer window is over.
    function _strikeUnanswered(uint256 id, uint256 round) internal {
        if (block.number <= zkpot.getRound(id, round).answerEnd) return;
        for (uint256 i = 0; i < ACTORS; i++) {
            if (zkpot.getContribution(id, round, actors[i]).challenger == address(0)) continue;
            vm.prank(actors[i]);
            zkpot.settleChallenge(id, round, actors[i], "");
            _judged(id, round, actors[i], "unanswered");
        }
    }

    /// @dev After a claim was judged or struck: counts the outcome and checks it against
    ///      what the handler knows of the claimed bytes. A struck claim whose bytes were
    ///      valid is a fault only if they were judged (an unanswered challenge strikes
    ///      any claim).
    function _judged(uint256 id, uint256 round, address client, string memory how) internal {
        ZKPoT.Contribution memory c = zkpot.getContribution(id, round, client);
        bool valid = _claimValid[id][round][client];
        bool judged = keccak256(bytes(how)) != keccak256("unanswered");
        if (judged && valid && c.struck) ghostValidClaimsStruck++;
        if (!valid && !c.struck) ghostInvalidClaimsUpheld++;
        calls[bytes32(bytes(string.concat(how, c.struck ? ".struck" : ".upheld")))]++;
    }

    /// @dev A claim of the current round that can still be disputed, searched from a
    ///      seeded client.
    function _disputable(uint256 id, uint256 round, uint256 seed) internal view returns (bool, address) {
        for (uint256 i = 0; i < ACTORS; i++) {
            address a = actors[(seed + i) % ACTORS];
            ZKPoT.Contribution memory c = zkpot.getContribution(id, round, a);
            if (c.submitted && !c.verified && !c.struck && c.challenger == address(0)) return (true, a);
        }
        return (false, address(0));
    }

    /// @dev A fixture's weights hash: one not yet submitted under the circuit (a proof can
    ///      be used once), or, one time in eight or when all are used, any (a replay).
    function _model(uint256 seed) internal view returns (bytes32) {
        uint256 n = fixtures.length;
        uint256 k = seed % n;
        if ((seed >> 32) % 8 != 0) {
            for (
                uint256 tries = 0;
                tries < n && zkpot.modelSubmittedAt(vkaDigest, fixtures[k].weightsHash) != 0;
                tries++
            ) {
                k = (k + 1) % n;
            }
        }
        return fixtures[k].weightsHash;
    }

    /// @dev One submission of `actor`, committed to `w`, honest or corrupted as `pick` says:
    ///      pick % 16 is the mode (0-9 honest, 10-11 a flipped proof byte at a seeded
    ///      position with a seeded mask, 12-13 a forged count, 14 another fixture's proof
    ///      or a proof on another batch, 15 a wrong salt).
    function _submit(uint256 id, uint256 round, address actor, bytes32 w, uint256 pick) internal {
        uint256 mode = pick % 16;
        uint256 k = 0;
        bool corrupted = true; // a junk commitment has no proof: revealing it is a forgery
        for (uint256 j = 0; j < fixtures.length; j++) {
            if (fixtures[j].weightsHash == w) (k, corrupted) = (j, false);
        }
        Submission memory s;
        s.proof = fixtures[k].proof;
        s.instances = new uint256[](1);
        s.instances[0] = fixtures[k].correct;
        s.claimedCorrect = fixtures[k].correct;
        s.salt = saltOf(actor, id, round);
        s.sealedWeightsCid = "bafkreisealed";
        if (mode == 10 || mode == 11) {
            uint256 at = (pick >> 8) % s.proof.length;
            s.proof[at] = bytes1(uint8(s.proof[at]) ^ uint8(_bound(pick >> 128, 1, 255)));
        } else if (mode == 12 || mode == 13) {
            s.instances[0] = mode == 12 || s.claimedCorrect == 0 ? s.claimedCorrect + 1 : s.claimedCorrect - 1;
            s.claimedCorrect = s.instances[0];
        } else if (mode == 14) {
            s.proof = (pick >> 64) % 2 == 0 ? fixtures[(k + 1) % fixtures.length].proof : otherBatchProof;
        } else if (mode == 15) {
            s.salt = keccak256(abi.encode(s.salt));
        }
        corrupted = corrupted || mode >= 10;
        if (corrupted) ghostCorruptedSubmissions++;

        vm.prank(actor);
        try zkpot.submitProof(id, round, s) {
            if (corrupted) ghostCorruptedAccepted++;
            ZKPoT.Contribution memory c = zkpot.getContribution(id, round, actor);
            if (c.accepted) {
                // An optimistic round folds its contributions at close, over what stands.
                if (!zkpot.getTask(id).optimistic) {
                    ghostContributionsRoot[id][round] =
                        keccak256(abi.encode(ghostContributionsRoot[id][round], actor, c.weightsHash, c.correct));
                }
                calls["proof.accepted"]++;
            } else {
                calls["proof.belowThreshold"]++;
            }
            if (!corrupted && _frontRunAt[w] > zkpot.getRound(id, round).commitEnd) ghostFrontRunThenSubmitted++;
        } catch (bytes memory err) {
            if (!corrupted) calls["proof.rejected"]++;
            // Published first by the front-runner, after this round's commitments were locked.
            bool onlyFrontRun = _frontRunAt[w] > zkpot.getRound(id, round).commitEnd
                && zkpot.globalModelPublishedAt(vkaDigest, w) == _frontRunAt[w];
            if (!corrupted && onlyFrontRun && bytes4(err) == ZKPoTStaleModel.selector) ghostVoidedByFrontRun++;
        }
    }

    /// @dev One claim of `actor`, committed to `w`, honest or forged as `pick` says: pick
    ///      % 16 is the mode (0-9 honest: the fixture's proof, its count; 10-11 a proof
    ///      byte flipped after the weights commitment; 12-13 a forged count; 14 another
    ///      fixture's proof; 15 a wrong salt, refused). A junk commitment is claimed
    ///      with fixture 0's proof. The claimed bytes and their validity are kept for
    ///      the disputes.
    function _submitClaim(uint256 id, uint256 round, address actor, bytes32 w, uint256 pick) internal {
        uint256 mode = pick % 16;
        uint256 k = 0;
        bool valid = false;
        for (uint256 j = 0; j < fixtures.length; j++) {
            if (fixtures[j].weightsHash == w) (k, valid) = (j, true);
        }
        bytes memory proof = bytes.concat(fixtures[k].proof);
        Claim memory cl;
        cl.weightsHash = w;
        cl.claimedCorrect = fixtures[k].correct;
        cl.salt = saltOf(actor, id, round);
        cl.sealedWeightsCid = "bafkreisealed";
        cl.proofCid = "bafkreiproof";
        if (mode == 10 || mode == 11) {
            uint256 at = 64 + (pick >> 8) % (proof.length - 64);
            proof[at] = bytes1(uint8(proof[at]) ^ uint8(_bound(pick >> 128, 1, 255)));
        } else if (mode == 12 || mode == 13) {
            cl.claimedCorrect = mode == 12 || cl.claimedCorrect == 0 ? cl.claimedCorrect + 1 : cl.claimedCorrect - 1;
        } else if (mode == 14) {
            proof = fixtures[(k + 1) % fixtures.length].proof;
        } else if (mode == 15) {
            cl.salt = keccak256(abi.encode(cl.salt));
        }
        valid = valid && mode < 10;
        cl.proofHash = keccak256(proof);

        vm.prank(actor);
        try zkpot.submitClaim(id, round, cl) {
            if (!zkpot.getTask(id).optimistic) ghostClaimsInImmediateTasks++;
            if (mode == 15) ghostCorruptedAccepted++;
            _claimedProof[id][round][actor] = proof;
            _claimValid[id][round][actor] = valid;
            calls[valid ? bytes32("optimistic.claim") : bytes32("optimistic.forgedClaim")]++;
        } catch {
            calls["optimistic.claim.rejected"]++;
        }
    }

    /// @dev An aggregate of `modelHash` without a proof (the suite runs ZKPoTUncheckedAggregates).
    function _unproven(bytes32 modelHash) private pure returns (IZKPoTTypes.Aggregate memory a) {
        a.modelHash = modelHash;
        a.cid = "bafkreimodel";
    }
}
