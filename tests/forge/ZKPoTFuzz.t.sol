// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {ZKPoT} from "../../contracts/ZKPoT.sol";
import {ZKPoTBase, ProofFixture} from "./ZKPoTBase.sol";

/// @notice Fuzz tests of every external state-changing function of ZKPoT, with the real
///         ezkl proofs. Each test derives the expected outcome from its fuzzed inputs and
///         checks both sides: the exact custom error when the call must fail, the exact
///         state change (and no other) when it must succeed.
contract ZKPoTFuzzTest is ZKPoTBase {
    /// @dev The BN254 scalar field order: the verifier's public instances live below it.
    uint256 internal constant FIELD_ORDER =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    // ================================================================= helpers

    /// @dev A default-shaped task with the given pool, leader share, rounds and threshold.
    function rewardTask(uint256 pool, uint16 bps, uint32 rounds, uint32 threshold) internal returns (uint256 id) {
        TaskConfig memory c = defaultConfig();
        c.leaderShareBps = bps;
        c.numRounds = rounds;
        c.batchCommitments = sealedBatches(rounds);
        c.minCorrect = threshold;
        vm.deal(publisher, pool + c.aggregatorBond);
        id = createTask(c, pool);
    }

    /// @dev Every client registers with the default stake and round 1 opens.
    function registerAllAndStart(uint256 id) internal {
        for (uint256 i = 0; i < clients.length; i++) {
            register(id, clients[i]);
        }
        vm.roll(zkpot.getTask(id).startBlock);
    }

    /// @dev Client i commits to its fixture of the round (`fixtureFor`: in round 1 A, B,
    ///      A_TWIN) for each bit i of `mask`, proves it at the start of the proof phase, and
    ///      returns how many submitted.
    function proveMask(uint256 id, uint256 mask) internal returns (uint256 n) {
        (uint256 round,) = roundOf(id);
        for (uint256 i = 0; i < 3; i++) {
            if ((mask >> i) & 1 != 0) commitTo(id, clients[i], fixtureFor(i, round));
        }
        toProofPhase(id);
        for (uint256 i = 0; i < 3; i++) {
            if ((mask >> i) & 1 != 0) {
                submitFor(id, clients[i], fixtureFor(i, round));
                n++;
            }
        }
    }

    /// @dev Whether fault `k` is switched on in `faults`: each one is in a quarter of the
    ///      runs, independently, so that a quarter to a third of the runs have none.
    function broken(uint256 faults, uint256 k) internal pure returns (bool) {
        return (faults >> (2 * k)) & 3 == 3;
    }

    /// @dev The leader the contract must elect among the clients of `mask` whose count
    ///      reaches `threshold`: the highest count, then the lower key under `seed`.
    function expectedLeader(uint256 mask, uint256 threshold, bytes32 seed)
        internal
        view
        returns (address leader, uint256 best)
    {
        for (uint256 i = 0; i < 3; i++) {
            if ((mask >> i) & 1 == 0 || fixtures[i].correct < threshold) continue;
            uint256 count = fixtures[i].correct;
            bool lowerKey = leader != address(0) && tieKey(seed, clients[i]) < tieKey(seed, leader);
            if (leader == address(0) || count > best || (count == best && lowerKey)) {
                leader = clients[i];
                best = count;
            }
        }
    }

    /// @dev The record the contract must append when it finalises `round` of `id`.
    function expectedRecord(uint256 id, uint32 round, bytes32 prev, bytes32 model, string memory cid, address agg)
        internal
        view
        returns (RoundRecord memory rec)
    {
        ZKPoT.Round memory r = zkpot.getRound(id, round);
        rec = RoundRecord({
            taskId: id,
            round: round,
            prevRecordHash: prev,
            leader: r.leader,
            leaderCorrect: r.leaderCorrect,
            acceptedCount: r.acceptedCount,
            contributionsRoot: r.contributionsRoot,
            globalModelHash: model,
            globalModelCid: cid,
            aggregator: agg,
            // A published model's record holds its aggregate's proof hash (this suite's
            // harness takes aggregates without a proof: the hash of none).
            aggregationProofHash: agg == address(0) ? bytes32(0) : keccak256("")
        });
    }

    // ================================================================= createTask

    /// @dev Bounds a fuzzed configuration into the valid domain.
    function validConfig(TaskConfig memory c) internal view returns (TaskConfig memory) {
        // One digest in four is left as fuzzed: a circuit nobody registered.
        if (c.vkaDigest == bytes32(0) || uint256(c.vkaDigest) % 4 != 0) c.vkaDigest = vkaDigest;
        // Likewise for the aggregation circuit.
        if (c.aggregationVkaDigest == bytes32(0) || uint256(c.aggregationVkaDigest) % 4 != 0) {
            c.aggregationVkaDigest = aggregationVkaDigest;
        }
        if (c.aggregator == address(0)) c.aggregator = aggregator;
        c.evalSamples = uint32(bound(c.evalSamples, 1, type(uint32).max - 1));
        c.minCorrect = uint32(bound(c.minCorrect, 0, c.evalSamples));
        c.maxClients = uint32(bound(c.maxClients, 1, type(uint32).max));
        // One batch commitment per round: up to 64 rounds keeps the array small.
        c.numRounds = uint32(bound(c.numRounds, 1, 64));
        c.batchCommitments = sealedBatches(c.numRounds);
        c.registrationBlocks = uint32(bound(c.registrationBlocks, 1, type(uint32).max));
        c.commitBlocks = uint32(bound(c.commitBlocks, 1, type(uint32).max));
        c.revealBlocks = uint32(bound(c.revealBlocks, 1, type(uint32).max));
        c.proofBlocks = uint32(bound(c.proofBlocks, 1, type(uint32).max));
        c.aggregateBlocks = uint32(bound(c.aggregateBlocks, 1, type(uint32).max));
        c.leaderShareBps = uint16(bound(c.leaderShareBps, 0, 10_000));
        c.minStake = bound(c.minStake, 1, type(uint256).max - 1);
        c.missedProofPenalty = bound(c.missedProofPenalty, 1, c.minStake);
        c.aggregatorBond = bound(c.aggregatorBond, 0, 1_000 ether);
        c.aggregatorPenalty = bound(c.aggregatorPenalty, 0, c.aggregatorBond);
        c.disputeBlocks = c.optimistic ? uint32(bound(c.disputeBlocks, 1, type(uint32).max)) : 0;
        c.disputeBond = c.optimistic ? bound(c.disputeBond, 1, type(uint256).max) : 0;
        if (c.initialModelHash == bytes32(0)) c.initialModelHash = keccak256("initial model");
        if (bytes(c.initialModelCid).length == 0) c.initialModelCid = "bafkreiinitial";
        if (bytes(c.circuitCid).length == 0) c.circuitCid = "bafkreicircuit";
        return c;
    }

    /// @notice A fuzzed configuration with at most one broken parameter and a fuzzed value:
    ///         the broken parameter is named whatever the value; else an unregistered
    ///         circuit is refused; else a value short of the bond is refused; else every
    ///         parameter is stored and pool == value - bond.
    function testFuzz_createTask_storesAValidConfigOrNamesTheBrokenParameter(
        TaskConfig memory c,
        uint256 value,
        uint256 which,
        uint256 seed
    ) public {
        c = validConfig(c);
        string memory invalid = breakParameter(c, bound(which, 0, 22), seed);
        // One time in four (when there is a bond) the value falls short of it.
        if (value % 4 == 0 && c.aggregatorBond > 0) value = bound(value, 0, c.aggregatorBond - 1);
        else value = c.aggregatorBond + bound(value, 0, 100 ether);
        vm.deal(publisher, value);
        uint256 balance = address(zkpot).balance;
        bool registered = zkpot.circuitProofLength(c.vkaDigest) != 0;
        bool aggregationRegistered = zkpot.circuitProofLength(c.aggregationVkaDigest) != 0;

        vm.prank(publisher);
        if (bytes(invalid).length != 0) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTInvalidTaskParameter.selector, invalid));
            zkpot.createTask{value: value}(c);
        } else if (!registered) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTUnknownCircuit.selector, c.vkaDigest));
            zkpot.createTask{value: value}(c);
        } else if (!aggregationRegistered) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTUnknownCircuit.selector, c.aggregationVkaDigest));
            zkpot.createTask{value: value}(c);
        } else if (value < c.aggregatorBond) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTInsufficientFunding.selector, value, c.aggregatorBond));
            zkpot.createTask{value: value}(c);
        } else {
            uint256 id = zkpot.createTask{value: value}(c);
            assertEq(id, 1);
            assertStoredTask(id, c, value - c.aggregatorBond);
            assertEq(address(zkpot).balance, balance + value);
            return;
        }
        assertEq(zkpot.taskCount(), 0);
        assertEq(address(zkpot).balance, balance);
    }

    function assertStoredTask(uint256 id, TaskConfig memory c, uint256 pool) internal view {
        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(t.publisher, publisher);
        assertEq(t.aggregator, c.aggregator);
        assertEq(t.vkaDigest, c.vkaDigest);
        assertEq(t.aggregationVkaDigest, c.aggregationVkaDigest);
        assertEq(t.evalSamples, c.evalSamples);
        assertEq(t.minCorrect, c.minCorrect);
        assertEq(t.maxClients, c.maxClients);
        assertEq(t.numRounds, c.numRounds);
        assertEq(t.commitBlocks, c.commitBlocks);
        assertEq(t.revealBlocks, c.revealBlocks);
        assertEq(t.proofBlocks, c.proofBlocks);
        assertEq(t.aggregateBlocks, c.aggregateBlocks);
        assertEq(t.leaderShareBps, c.leaderShareBps);
        assertEq(t.startBlock, block.number + c.registrationBlocks);
        assertEq(t.minStake, c.minStake);
        assertEq(t.missedProofPenalty, c.missedProofPenalty);
        assertEq(t.aggregatorPenalty, c.aggregatorPenalty);
        assertEq(t.optimistic, c.optimistic);
        assertEq(t.disputeBlocks, c.disputeBlocks);
        assertEq(t.disputeBond, c.disputeBond);
        assertEq(t.heldBonds, 0);
        assertEq(uint8(t.status), uint8(TaskStatus.Active));
        assertEq(t.currentRound, 1);
        assertEq(t.rewardPool, pool);
        assertEq(t.aggregatorBond, c.aggregatorBond);
        assertEq(t.totalStake + t.unclaimedRewards + t.clientCount, 0);
        assertEq(t.globalModelHash, c.initialModelHash);
        assertEq(t.globalModelCid, c.initialModelCid);

        assertEq(t.headRecord, keccak256(abi.encode(genesisRecord(id, c))));
        assertEq(zkpot.recordHash(id, 0), t.headRecord);

        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        assertEq(uint8(r.status), uint8(RoundStatus.Open));
        assertEq(r.openBlock, t.startBlock);
        assertEq(r.commitEnd, uint256(t.startBlock) + c.commitBlocks - 1);
        assertEq(r.revealEnd, uint256(r.commitEnd) + c.revealBlocks);
        assertEq(r.proofEnd, uint256(r.revealEnd) + c.proofBlocks);
        assertEq(r.batchDigest, bytes32(0));
        assertEq(r.disputeEnd, uint256(r.proofEnd) + c.disputeBlocks);
        assertEq(r.answerEnd, uint256(r.disputeEnd) + c.disputeBlocks);
        assertEq(r.aggregateEnd, uint256(r.answerEnd) + c.aggregateBlocks);
    }

    // ================================================================= registerCircuit

    /// @notice One word of the circuit's key artefact changed by a fuzzed amount (plus the
    ///         field modulus, a flipped bit, or any value): either ZKPoT refuses the
    ///         artefact, or it accepts no proof of the circuit, or it keeps word 0 and so
    ///         shares the circuit's key (its proofs cannot be replayed under it). Fewer
    ///         runs: a broken artefact can send the verifier through long loops.
    /// forge-config: default.fuzz.runs = 64
    function testFuzz_registerCircuit_anEquivalentArtefactIsRefusedOrSharesTheCircuitKey(
        uint256 index,
        uint256 change,
        uint8 how
    ) public {
        index = bound(index, 0, vka.length - 1);
        bytes32[] memory twin = new bytes32[](vka.length);
        for (uint256 i = 0; i < vka.length; i++) {
            twin[i] = vka[i];
        }
        uint256 w = uint256(vka[index]);
        uint256 field = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
        if (how % 3 == 0) twin[index] = bytes32(w < type(uint256).max - field ? w + field : w - field);
        else if (how % 3 == 1) twin[index] = bytes32(w ^ (1 << (change % 256)));
        else twin[index] = bytes32(change);
        vm.assume(twin[index] != vka[index]);

        try zkpot.registerCircuit(twin) returns (bytes32 digest) {
            Submission memory s = submission(A, bytes32(0));
            (bool ok, bytes memory ret) = verifier.staticcall(
                abi.encodeWithSignature("verifyProof(bytes,uint256[],bytes32[])", s.proof, s.instances, twin)
            );
            bool accepts = ok && ret.length >= 32 && abi.decode(ret, (uint256)) == 1;
            if (accepts) assertEq(twin[0], vka[0], "an equivalent artefact with another circuit key");
            assertEq(zkpot.circuitProofLength(digest) > 0, true);
        } catch (bytes memory err) {
            bytes4 selector = bytes4(err);
            assertTrue(
                selector == ZKPoTNonCanonicalKeyArtefact.selector || selector == ZKPoTMalformedKeyArtefact.selector,
                "refused for another reason"
            );
        }
    }

    // ================================================================= cancelTask

    /// @notice Cancelling with a fuzzed pool, bond, caller and block: only the publisher,
    ///         only before the start block; then exactly pool + bond is credited to it,
    ///         stakes stay held for release and the task cannot be cancelled again.
    function testFuzz_cancelTask_byThePublisherBeforeTheStartOnly(
        uint256 pool,
        uint256 bond,
        address caller,
        bool byPublisher,
        uint256 blockOffset,
        uint256 stakers
    ) public {
        pool = bound(pool, 0, 500 ether);
        TaskConfig memory c = defaultConfig();
        c.aggregatorBond = bound(bond, 0, 50 ether);
        c.aggregatorPenalty = c.aggregatorBond / 2;
        vm.deal(publisher, pool + c.aggregatorBond);
        uint256 id = createTask(c, pool);
        stakers = bound(stakers, 0, clients.length);
        for (uint256 i = 0; i < stakers; i++) {
            register(id, clients[i]);
        }
        uint256 start = zkpot.getTask(id).startBlock;
        vm.roll(block.number + bound(blockOffset, 0, REG_BLOCKS + 10));
        if (byPublisher) caller = publisher;
        uint256 balance = address(zkpot).balance;

        vm.prank(caller);
        if (caller != publisher) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTNotPublisher.selector, id, caller));
            zkpot.cancelTask(id);
            assertEq(uint8(zkpot.getTask(id).status), uint8(TaskStatus.Active));
            return;
        }
        if (block.number >= start) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTRegistrationClosed.selector, id, block.number, start));
            zkpot.cancelTask(id);
            assertEq(uint8(zkpot.getTask(id).status), uint8(TaskStatus.Active));
            return;
        }
        vm.expectEmit(address(zkpot));
        emit TaskCancelled(id, pool + c.aggregatorBond);
        zkpot.cancelTask(id);

        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(uint8(t.status), uint8(TaskStatus.Cancelled));
        assertEq(t.rewardPool + t.aggregatorBond, 0);
        assertEq(t.totalStake, stakers * STAKE);
        assertEq(zkpot.creditOf(publisher), pool + c.aggregatorBond);
        assertEq(address(zkpot).balance, balance);

        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTTaskNotActive.selector, id, TaskStatus.Cancelled));
        zkpot.cancelTask(id);
    }

    // ================================================================= register

    /// @notice Registering with a fuzzed stake, block, capacity and prior registrations:
    ///         the first failing rule (closed, already registered, full, stake too low) is
    ///         reported; a success records the stake and nothing else moves.
    function testFuzz_register_checksWindowMembershipCapacityAndStake(
        uint256 stake,
        uint256 minStake,
        uint256 blockOffset,
        uint256 maxClients,
        uint256 registered,
        bool again
    ) public {
        TaskConfig memory c = defaultConfig();
        c.minStake = bound(minStake, 1, 5 ether);
        c.missedProofPenalty = c.minStake / 2 + 1;
        c.maxClients = uint32(bound(maxClients, 1, 4));
        uint256 id = createTask(c, POOL);
        registered = bound(registered, 0, _min(c.maxClients, 3));
        for (uint256 i = 0; i < registered; i++) {
            vm.prank(clients[i]);
            zkpot.register{value: c.minStake}(id);
        }
        address candidate = again && registered > 0 ? clients[0] : clients[3];
        stake = bound(stake, 0, 10 ether);
        vm.roll(block.number + bound(blockOffset, 0, REG_BLOCKS + 5));
        ZKPoT.Task memory before = zkpot.getTask(id);

        bytes memory err;
        if (block.number >= before.startBlock) {
            err = abi.encodeWithSelector(ZKPoTRegistrationClosed.selector, id, block.number, before.startBlock);
        } else if (candidate == clients[0]) {
            err = abi.encodeWithSelector(ZKPoTAlreadyRegistered.selector, id, candidate);
        } else if (registered >= c.maxClients) {
            err = abi.encodeWithSelector(ZKPoTTaskFull.selector, id, c.maxClients);
        } else if (stake < c.minStake) {
            err = abi.encodeWithSelector(ZKPoTStakeTooLow.selector, stake, c.minStake);
        }
        uint256 balance = address(zkpot).balance;
        vm.prank(candidate);
        if (err.length != 0) vm.expectRevert(err);
        zkpot.register{value: stake}(id);

        ZKPoT.Task memory t = zkpot.getTask(id);
        if (err.length != 0) {
            assertEq(t.clientCount, before.clientCount);
            assertEq(t.totalStake, before.totalStake);
            assertEq(address(zkpot).balance, balance);
            return;
        }
        ZKPoT.Member memory m = zkpot.getMember(id, candidate);
        assertTrue(m.registered);
        assertEq(m.stake, stake);
        assertEq(m.pendingRound, 0);
        assertEq(t.clientCount, registered + 1);
        assertEq(t.totalStake, before.totalStake + stake);
        assertEq(address(zkpot).balance, balance + stake);
    }

    // ================================================================= commit

    /// @notice Committing with each rule independently broken or not (wrong round, block
    ///         outside [openBlock, commitEnd], zero commitment, outsider), at fuzzed blocks
    ///         and rounds: the first broken rule is reported and nothing is stored; with none
    ///         broken the commitment is recorded.
    function testFuzz_commit_acceptedOnlyInsideTheCommitWindow(
        uint256 faults,
        uint256 round,
        uint256 blockNumber,
        bytes32 commitment
    ) public {
        uint256 id = createTask();
        registerAllAndStart(id);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        round = broken(faults, 0) ? bound(round, 2, type(uint32).max) : 1;
        if (!broken(faults, 1)) vm.roll(bound(blockNumber, r.openBlock, r.commitEnd));
        else if (blockNumber % 2 == 0) vm.roll(bound(blockNumber, r.openBlock - REG_BLOCKS, r.openBlock - 1));
        else vm.roll(bound(blockNumber, r.commitEnd + 1, r.aggregateEnd + 5));
        if (broken(faults, 2)) commitment = bytes32(0);
        else vm.assume(commitment != bytes32(0));
        address sender = broken(faults, 3) ? makeAddr("outsider") : clients[0];

        bytes memory err;
        if (broken(faults, 0)) {
            err = abi.encodeWithSelector(ZKPoTWrongRound.selector, id, round, 1);
        } else if (broken(faults, 1)) {
            err = abi.encodeWithSelector(ZKPoTNotInCommitPhase.selector, id, 1, block.number, r.openBlock, r.commitEnd);
        } else if (broken(faults, 2)) {
            err = abi.encodeWithSelector(ZKPoTEmptyCommitment.selector, sender);
        } else if (broken(faults, 3)) {
            err = abi.encodeWithSelector(ZKPoTNotEligible.selector, id, sender, 0);
        }
        vm.prank(sender);
        if (err.length != 0) {
            vm.expectRevert(err);
        } else {
            vm.expectEmit(address(zkpot));
            emit Committed(id, 1, sender, commitment);
        }
        zkpot.commit(id, round, commitment);

        ZKPoT.Contribution memory c = zkpot.getContribution(id, 1, sender);
        assertEq(c.commitment, err.length == 0 ? commitment : bytes32(0));
        assertEq(zkpot.getMember(id, sender).pendingRound, err.length == 0 ? 1 : 0);
        assertEq(zkpot.getRound(id, 1).committedCount, err.length == 0 ? 1 : 0);
    }

    // ================================================================= revealBatch

    /// @dev A reveal's arguments, and whether and how its opening was made to fail.
    struct RevealCall {
        uint256 round;
        address sender;
        bytes batch;
        bytes32 salt;
        string cid;
        bool wrong;
        uint256 how;
    }

    /// @notice Revealing with each rule independently broken or not (wrong round, another
    ///         sender, a block before or after the reveal window, a second reveal, an
    ///         opening that fails: a fuzzed salt, fuzzed bytes, no bytes or no CID), at
    ///         fuzzed blocks: the first broken rule is reported, with the opening it
    ///         computed, and nothing changes; with none broken the batch's digest and
    ///         length are recorded, BatchRevealed names them and proofs are taken.
    function testFuzz_revealBatch_onlyThePublisherOpensTheRoundsCommitmentInItsWindow(
        uint256 faults,
        uint256 blockNumber,
        RevealCall memory call
    ) public {
        uint256 id = createTask();
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        call.round = broken(faults, 0) ? bound(call.round, 2, type(uint32).max) : 1;
        if (broken(faults, 1)) vm.assume(call.sender != publisher);
        else call.sender = publisher;
        bool before = blockNumber % 2 == 0 && !broken(faults, 3); // a second reveal comes after a first
        if (broken(faults, 3)) revealBatch(id); // at commitEnd + 1
        if (!broken(faults, 2)) blockNumber = bound(blockNumber, uint256(r.commitEnd) + 1, r.revealEnd);
        else if (before) blockNumber = bound(blockNumber, block.number, r.commitEnd);
        else blockNumber = bound(blockNumber, uint256(r.revealEnd) + 1, r.aggregateEnd + 5);
        vm.roll(_max(blockNumber, block.number));
        openingOf(call, faults);
        bytes memory err = revealError(id, r, faults, call);
        bytes32 digestBefore = zkpot.getRound(id, 1).batchDigest;

        vm.prank(call.sender);
        if (err.length != 0) {
            vm.expectRevert(err);
        } else {
            vm.expectEmit(address(zkpot));
            emit BatchRevealed(id, 1, keccak256(batches[0]), call.cid);
        }
        zkpot.revealBatch(id, call.round, call.batch, call.salt, call.cid);

        r = zkpot.getRound(id, 1);
        if (err.length != 0) {
            assertEq(r.batchDigest, digestBefore);
            return;
        }
        assertEq(r.batchDigest, keccak256(batches[0]));
        assertEq(r.batchLength, batches[0].length);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Prove));
    }

    /// @dev The opening of a fuzzed reveal: when fault 4 is on, one way to fail it (a
    ///      fuzzed salt, fuzzed bytes, no bytes, no CID), else round 1's batch and salt,
    ///      with a CID.
    function openingOf(RevealCall memory call, uint256 faults) internal view {
        call.how = (faults >> 10) % 4;
        call.wrong = broken(faults, 4);
        bool wrong = call.wrong;
        uint256 how = call.how;
        if (!wrong || how != 0) call.salt = batchSalt(1);
        if (wrong && how == 0) vm.assume(call.salt != batchSalt(1));
        if (!wrong || how != 1) call.batch = batches[0];
        if (wrong && how == 1) vm.assume(call.batch.length != 0 && keccak256(call.batch) != keccak256(batches[0]));
        if (wrong && how == 2) call.batch = "";
        if (wrong && how == 3) call.cid = "";
        else if (bytes(call.cid).length == 0) call.cid = BATCH_CID;
    }

    /// @dev The error a fuzzed reveal must get (empty: none), in the contract's order of
    ///      checks: round, sender, window, not revealed yet, opening.
    function revealError(uint256 id, ZKPoT.Round memory r, uint256 faults, RevealCall memory call)
        internal
        view
        returns (bytes memory)
    {
        bytes32 expected = sealedBatch(0, 1);
        bytes32 opened = keccak256(abi.encode(keccak256(call.batch), call.salt));
        assertEq(opened == expected, !call.wrong || call.how == 3);
        if (broken(faults, 0)) return abi.encodeWithSelector(ZKPoTWrongRound.selector, id, call.round, 1);
        if (broken(faults, 1)) return abi.encodeWithSelector(ZKPoTNotPublisher.selector, id, call.sender);
        if (broken(faults, 2)) {
            return
                abi.encodeWithSelector(
                    ZKPoTNotInRevealWindow.selector, id, 1, block.number, r.commitEnd + 1, r.revealEnd
                );
        }
        if (broken(faults, 3)) return abi.encodeWithSelector(ZKPoTBatchAlreadyRevealed.selector, id, 1);
        if (call.wrong) return abi.encodeWithSelector(ZKPoTBatchMismatch.selector, id, 1, expected, opened);
        return "";
    }

    // ================================================================= submitProof

    /// @notice A real proof with one fuzzed byte flipped by a fuzzed non-zero mask never
    ///         verifies (in its first bytes, the weights commitment, it opens no
    ///         commitment; in the next, the batch commitment, it is not even on the
    ///         revealed batch), and the rejection stores nothing: the genuine proof is
    ///         accepted after.
    function testFuzz_submitProof_aFlippedProofByteIsRejected(uint256 fixture, uint256 index, uint8 mask) public {
        fixture = bound(fixture, 0, 2);
        uint256 id = createTask();
        registerAllAndStart(id);
        commitTo(id, clients[0], fixture);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], fixture);
        index = bound(index, 0, s.proof.length - 1);
        s.proof[index] = bytes1(uint8(s.proof[index]) ^ uint8(bound(mask, 1, 255)));
        uint256 batchLength = zkpot.getRound(id, 1).batchLength;
        bytes32 expected = zkpot.getContribution(id, 1, clients[0]).commitment;
        bytes32 opened = zkpot.commitmentOf(clients[0], id, 1, keccak256(prefix(s.proof, 64)), s.salt);

        vm.prank(clients[0]);
        if (index < 64) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTCommitmentMismatch.selector, clients[0], expected, opened));
        } else if (index < 64 + batchLength) {
            bytes32 actual = keccak256(slice(s.proof, 64, batchLength));
            vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongBatch.selector, id, 1, keccak256(batches[0]), actual));
        } else {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTProofRejected.selector, id, clients[0]));
        }
        zkpot.submitProof(id, 1, s);
        assertFalse(zkpot.getContribution(id, 1, clients[0]).submitted);
        assertEq(zkpot.getRound(id, 1).provedCount, 0);
        assertEq(zkpot.getMember(id, clients[0]).pendingRound, 1);

        submitFor(id, clients[0], fixture);
        assertTrue(zkpot.getContribution(id, 1, clients[0]).accepted);
    }

    /// @notice Revealing a fuzzed salt or another fixture's weights hash than the one
    ///         committed to is a commitment mismatch naming both hashes; the exact opening
    ///         verifies.
    function testFuzz_submitProof_onlyTheCommittedOpeningIsAccepted(
        uint256 committed,
        uint256 revealed,
        bytes32 salt,
        bool rightSalt
    ) public {
        committed = bound(committed, 0, 2);
        revealed = bound(revealed, 0, 2);
        uint256 id = createTask();
        registerAllAndStart(id);
        commitTo(id, clients[0], committed);
        toProofPhase(id);
        if (rightSalt) salt = saltOf(clients[0], 1);
        Submission memory s = submission(revealed, salt);
        bytes32 expected = zkpot.getContribution(id, 1, clients[0]).commitment;
        bytes32 opened = zkpot.commitmentOf(clients[0], id, 1, fixtures[revealed].weightsHash, salt);

        vm.prank(clients[0]);
        if (opened != expected) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTCommitmentMismatch.selector, clients[0], expected, opened));
        }
        zkpot.submitProof(id, 1, s);
        ZKPoT.Contribution memory c = zkpot.getContribution(id, 1, clients[0]);
        assertEq(c.submitted, opened == expected);
        assertEq(opened == expected, rightSalt && committed == revealed);
    }

    /// @notice A real proof whose weights commitment is forged, committed to (so that it
    ///         opens the commitment), with a fuzzed count, is accepted only when both are
    ///         exactly the proof's own. Commitments are drawn from: the proof's own, one
    ///         bit off it, another fixture's, and random bytes; counts from the proof's
    ///         own, any up to two past the evaluation set, and the proof's own plus the
    ///         field order (the same value modulo the field).
    function testFuzz_submitProof_forgedCommitmentsAndCountsAreNeverAccepted(
        uint256 proofOf,
        uint256 commitmentMode,
        uint256 bit,
        bytes32 randomX,
        uint256 count
    ) public {
        proofOf = bound(proofOf, 0, 2);
        ProofFixture storage f = fixtures[proofOf];
        Submission memory s = submission(proofOf, saltOf(clients[0], 1));
        commitmentMode = bound(commitmentMode, 0, 3);
        bytes memory forged = prefix(s.proof, 64);
        if (commitmentMode == 1) {
            uint256 b = bound(bit, 0, 511);
            forged[b / 8] = bytes1(uint8(forged[b / 8]) ^ uint8(1 << (b % 8)));
        }
        if (commitmentMode == 2) forged = prefix(fixtures[(proofOf + 1 + bit % 2) % 3].proof, 64);
        if (commitmentMode == 3) forged = bytes.concat(randomX, keccak256(abi.encode(randomX)));
        for (uint256 i = 0; i < 64; i++) {
            s.proof[i] = forged[i];
        }
        // The proof's own count one time in three, once past the field order, else any
        // count up to two past the range.
        if (count % 3 == 0) count = f.correct;
        else if (count % 3 == 1 && count % 7 == 0) count = f.correct + FIELD_ORDER;
        else count = bound(count, 0, evalSamples + 2);

        uint256 id = createTask();
        registerAllAndStart(id);
        bytes32 commitment = zkpot.commitmentOf(clients[0], id, 1, keccak256(forged), s.salt);
        vm.prank(clients[0]);
        zkpot.commit(id, 1, commitment);
        toProofPhase(id);
        s.instances[0] = count;
        s.claimedCorrect = count;

        bool genuine = keccak256(forged) == f.weightsHash && count == f.correct;
        vm.prank(clients[0]);
        if (count > evalSamples) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTCountOutOfRange.selector, count, evalSamples));
        } else if (!genuine) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTProofRejected.selector, id, clients[0]));
        }
        zkpot.submitProof(id, 1, s);
        assertEq(zkpot.getContribution(id, 1, clients[0]).submitted, genuine);
        assertEq(zkpot.getRound(id, 1).acceptedCount, genuine ? 1 : 0);
    }

    /// @notice A public input vector of any length but one is malformed, before any proof check.
    function testFuzz_submitProof_onlyOneInstance(uint8 length) public {
        vm.assume(length != 1);
        uint256 id = createTask();
        registerAllAndStart(id);
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A);
        s.instances = new uint256[](length);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTMalformedInstances.selector, uint256(length)));
        zkpot.submitProof(id, 1, s);
    }

    /// @notice A genuine proof at a fuzzed block, the batch revealed at a fuzzed block of
    ///         its window or never, is accepted only in (commitEnd, proofEnd] and only once
    ///         the batch is out: outside the window it is NotInProofPhase, inside it before
    ///         the reveal BatchNotRevealed.
    function testFuzz_submitProof_acceptedOnlyInsideTheProofWindowOnceRevealed(
        uint256 blockNumber,
        uint256 revealAt,
        bool reveals
    ) public {
        uint256 id = createTask();
        registerAllAndStart(id);
        commitTo(id, clients[0], A);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        blockNumber = bound(blockNumber, r.openBlock, r.aggregateEnd + 5);
        revealAt = bound(revealAt, r.commitEnd + 1, r.revealEnd);
        bool revealed = reveals && revealAt <= blockNumber;
        if (revealed) {
            vm.roll(revealAt);
            revealBatch(id);
        }
        vm.roll(blockNumber);
        Submission memory s = submissionFor(id, clients[0], A);
        bool inside = block.number > r.commitEnd && block.number <= r.proofEnd;

        vm.prank(clients[0]);
        if (!inside) {
            vm.expectRevert(
                abi.encodeWithSelector(ZKPoTNotInProofPhase.selector, id, 1, block.number, r.commitEnd + 1, r.proofEnd)
            );
        } else if (!revealed) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTBatchNotRevealed.selector, id, 1));
        }
        zkpot.submitProof(id, 1, s);
        assertEq(zkpot.getContribution(id, 1, clients[0]).accepted, inside && revealed);
        assertEq(zkpot.getMember(id, clients[0]).pendingRound, inside && revealed ? 0 : 1);
    }

    /// @notice A hash another task publishes (as its initial model) at a fuzzed block of
    ///         the round: a proof of it is refused as stale exactly when the publication
    ///         came no later than the round's commit end, when the client could have
    ///         copied it; after that, nothing can void the commitment.
    function testFuzz_submitProof_onlyAModelPublicBeforeTheCommitEndIsStale(uint256 markAt, uint256 submitAt) public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        markAt = bound(markAt, block.number, r.proofEnd);
        if (markAt > r.commitEnd) revealBatch(id); // at commitEnd + 1, before the mark
        vm.roll(markAt);
        TaskConfig memory c = defaultConfig();
        c.initialModelHash = fixtures[A].weightsHash;
        c.aggregatorBond = 0;
        c.aggregatorPenalty = 0;
        vm.prank(makeAddr("anyone"));
        zkpot.createTask(c);
        uint256 marked = block.number;
        if (marked <= r.commitEnd) revealBatch(id); // at commitEnd + 1, after the mark
        vm.roll(bound(submitAt, _max(marked, r.commitEnd + 1), r.proofEnd));
        Submission memory s = submissionFor(id, clients[0], A);
        vm.prank(clients[0]);
        if (marked <= r.commitEnd) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTStaleModel.selector, id, 1, fixtures[A].weightsHash));
        }
        zkpot.submitProof(id, 1, s);
        assertEq(zkpot.getContribution(id, 1, clients[0]).accepted, marked > r.commitEnd);
    }

    /// @notice A proof cut short or padded by a fuzzed number of bytes is refused with the
    ///         circuit's length, before verification; only the exact length verifies.
    function testFuzz_submitProof_onlyTheCircuitsProofLength(uint256 change, bool pad) public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A);
        uint256 length = s.proof.length;
        change = bound(change, 0, pad ? 4096 : length);
        s.proof = pad ? bytes.concat(s.proof, new bytes(change)) : prefix(s.proof, length - change);
        vm.prank(clients[0]);
        if (change != 0) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongProofLength.selector, id, length, s.proof.length));
        }
        zkpot.submitProof(id, 1, s);
        assertEq(zkpot.getContribution(id, 1, clients[0]).submitted, change == 0);
    }

    // ================================================================= closeRound

    /// @notice Closing at a fuzzed block by a fuzzed caller, with a fuzzed pool, leader share
    ///         and set of accepted contributions: not before proofEnd; then the leader is the
    ///         best count (lower tie-break key on a tie) and exactly bonus + each * accepted moves
    ///         from the pool to the unclaimed rewards; a round with nothing accepted is
    ///         finalised at once with the previous model and the next round opens.
    function testFuzz_closeRound_electsTheLeaderAndFixesTheRewards(
        uint256 pool,
        uint16 bps,
        uint256 mask,
        uint256 blockNumber,
        address caller
    ) public {
        pool = bound(pool, 0, 1e30);
        bps = uint16(bound(bps, 0, 10_000));
        mask = bound(mask, 0, 7);
        uint256 id = rewardTask(pool, bps, ROUNDS, minCorrect);
        registerAllAndStart(id);
        uint256 n = proveMask(id, mask);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.roll(bound(blockNumber, r.commitEnd + 1, r.aggregateEnd + 10));
        bytes32 head = zkpot.getTask(id).headRecord;

        vm.prank(caller);
        if (block.number <= r.proofEnd) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTRoundNotOver.selector, id, 1, block.number, r.proofEnd));
            zkpot.closeRound(id, new address[](0));
            assertEq(uint8(zkpot.getRound(id, 1).status), uint8(RoundStatus.Open));
            return;
        }
        zkpot.closeRound(id, new address[](0));
        assertClosed(id, pool, bps, mask, n, head);
    }

    /// @dev Checks round 1 of `id` after its close, given what was fuzzed.
    function assertClosed(uint256 id, uint256 pool, uint256 bps, uint256 mask, uint256 n, bytes32 head) internal view {
        ZKPoT.Task memory t = zkpot.getTask(id);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        (address leader, uint256 best) = expectedLeader(mask, minCorrect, zkpot.getRound(id, 1).tieBreakSeed);
        assertEq(r.leader, leader);
        assertEq(r.leaderCorrect, best);
        assertEq(r.acceptedCount, n);
        if (n == 0) {
            assertEq(uint8(r.status), uint8(RoundStatus.Finalized));
            assertEq(t.rewardPool, pool);
            assertEq(t.currentRound, 2);
            assertEq(zkpot.getRound(id, 2).openBlock, block.number);
            RoundRecord memory rec = expectedRecord(id, 1, head, t.globalModelHash, t.globalModelCid, address(0));
            assertEq(zkpot.recordHash(id, 1), keccak256(abi.encode(rec)));
            return;
        }
        uint256 reward = pool / ROUNDS;
        uint256 bonus = reward * bps / 10_000;
        uint256 each = (reward - bonus) / n;
        assertEq(uint8(r.status), uint8(RoundStatus.Closed));
        assertEq(r.leaderBonus, bonus);
        assertEq(r.contributorReward, each);
        assertEq(t.unclaimedRewards, bonus + each * n);
        assertEq(t.rewardPool + t.unclaimedRewards, pool);
        assertLt(reward - t.unclaimedRewards, n); // only division dust stays behind
        assertEq(t.currentRound, 1);
    }

    /// @notice A round whose batch is never revealed, with a fuzzed bond, penalty, set of
    ///         committed clients, closing block and caller: not closed before revealEnd;
    ///         after it, min(penalty, bond) / committed leaves the bond for each committed
    ///         client (the dust stays), the round is finalised with the previous model, each
    ///         committed client claims exactly its share once, the others nothing, and
    ///         nobody is slashed for the proof it could not make.
    function testFuzz_closeRound_aMissedRevealSharesThePenaltyAmongTheCommitted(
        uint256 bond,
        uint256 penalty,
        uint256 mask,
        uint256 blockNumber,
        address caller
    ) public {
        TaskConfig memory c = defaultConfig();
        c.aggregatorBond = bound(bond, 0, 20 ether);
        c.aggregatorPenalty = bound(penalty, 0, c.aggregatorBond);
        vm.deal(publisher, POOL + c.aggregatorBond);
        uint256 id = createTask(c, POOL);
        registerAllAndStart(id);
        mask = bound(mask, 0, 15);
        uint256 n;
        for (uint256 i = 0; i < clients.length; i++) {
            if ((mask >> i) & 1 == 0) continue;
            commitTo(id, clients[i], i < 3 ? fixtureFor(i, 1) : fixtureNamed("c"));
            n++;
        }
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.roll(bound(blockNumber, r.commitEnd + 1, r.aggregateEnd + 5));

        vm.prank(caller);
        if (block.number <= r.revealEnd) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTRoundNotOver.selector, id, 1, block.number, r.revealEnd));
            zkpot.closeRound(id, new address[](0));
            assertEq(uint8(zkpot.getRound(id, 1).status), uint8(RoundStatus.Open));
            return;
        }
        uint256 each = n == 0 ? 0 : _min(c.aggregatorPenalty, c.aggregatorBond) / n;
        vm.expectEmit(address(zkpot));
        emit RevealMissed(id, 1, each * n, each);
        zkpot.closeRound(id, new address[](0));

        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(t.aggregatorBond, c.aggregatorBond - each * n);
        assertEq(t.unclaimedRewards, each * n);
        assertEq(t.rewardPool, POOL);
        assertLe(each * n, c.aggregatorPenalty);
        if (n > 0) assertLt(c.aggregatorPenalty - each * n, n); // only division dust stays
        assertEq(t.currentRound, 2);
        assertEq(t.globalModelHash, c.initialModelHash);
        assertEq(uint8(zkpot.getRound(id, 1).status), uint8(RoundStatus.Finalized));
        assertEq(zkpot.getRound(id, 1).contributorReward, each);

        for (uint256 i = 0; i < clients.length; i++) {
            bool committed = (mask >> i) & 1 != 0;
            vm.expectRevert(abi.encodeWithSelector(ZKPoTNoFault.selector, id, clients[i]));
            zkpot.slashMissedProof(id, clients[i]);
            vm.prank(clients[i]);
            if (!committed) vm.expectRevert(abi.encodeWithSelector(ZKPoTNoReward.selector, id, 1, clients[i]));
            zkpot.claimReward(id, 1);
            assertEq(zkpot.creditOf(clients[i]), committed ? each : 0);
            assertEq(zkpot.getMember(id, clients[i]).stake, STAKE);
            if (!committed) continue;
            vm.prank(clients[i]);
            vm.expectRevert(abi.encodeWithSelector(ZKPoTAlreadyClaimed.selector, id, 1, clients[i]));
            zkpot.claimReward(id, 1);
        }
        assertEq(zkpot.getTask(id).unclaimedRewards, 0);
    }

    // ================================================================= publishGlobalModel

    /// @notice Publishing with each rule independently broken or not (caller, round, block
    ///         before or after the aggregate phase, nothing accepted, empty model), at fuzzed
    ///         blocks, with or without a prior close: the first broken rule is reported and
    ///         nothing moves; with none broken the record is appended, linked to the previous
    ///         head, the model adopted and round 2 opened at once.
    function testFuzz_publishGlobalModel_onlyTheAggregatorInItsWindow(
        uint256 faults,
        address caller,
        uint256 round,
        uint256 blockNumber,
        bytes32 modelHash,
        string memory cid,
        bool closedFirst
    ) public {
        uint256 id = createTask();
        registerAllAndStart(id);
        if (!broken(faults, 3)) proveMask(id, 1);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        if (!broken(faults, 2)) vm.roll(bound(blockNumber, r.proofEnd + 1, r.aggregateEnd));
        else if (blockNumber % 2 == 0) vm.roll(bound(blockNumber, r.commitEnd + 1, r.proofEnd));
        else vm.roll(bound(blockNumber, r.aggregateEnd + 1, r.aggregateEnd + 5));
        if (!broken(faults, 3) && closedFirst && block.number > r.proofEnd) zkpot.closeRound(id, new address[](0));
        if (!broken(faults, 0)) caller = aggregator;
        else vm.assume(caller != aggregator);
        round = broken(faults, 1) ? bound(round, 2, type(uint32).max) : 1;
        if (broken(faults, 4) && blockNumber % 3 == 0) cid = "";
        else if (bytes(cid).length == 0) cid = "bafkreimodel";
        if (broken(faults, 4) && bytes(cid).length != 0) modelHash = bytes32(0);
        else vm.assume(modelHash != bytes32(0));
        bytes32 head = zkpot.getTask(id).headRecord;

        bytes memory err;
        if (broken(faults, 0)) {
            err = abi.encodeWithSelector(ZKPoTNotAggregator.selector, id, caller);
        } else if (broken(faults, 1)) {
            err = abi.encodeWithSelector(ZKPoTWrongRound.selector, id, round, 1);
        } else if (broken(faults, 2)) {
            err = abi.encodeWithSelector(
                ZKPoTNotInAggregatePhase.selector, id, 1, block.number, r.proofEnd + 1, r.aggregateEnd
            );
        } else if (broken(faults, 3)) {
            err = abi.encodeWithSelector(ZKPoTNothingToAggregate.selector, id, 1);
        } else if (broken(faults, 4)) {
            err = abi.encodeWithSelector(ZKPoTEmptyModel.selector);
        }
        vm.prank(caller);
        if (err.length != 0) vm.expectRevert(err);
        zkpot.publishGlobalModel(id, round, unproven(modelHash, cid));

        ZKPoT.Task memory t = zkpot.getTask(id);
        if (err.length != 0) {
            assertEq(t.currentRound, 1);
            assertEq(t.headRecord, head);
            assertEq(t.globalModelHash, defaultConfig().initialModelHash);
            return;
        }
        RoundRecord memory rec = expectedRecord(id, 1, head, modelHash, cid, aggregator);
        assertEq(rec.leader, clients[0]);
        assertEq(zkpot.recordHash(id, 1), keccak256(abi.encode(rec)));
        assertEq(t.headRecord, zkpot.recordHash(id, 1));
        assertEq(t.globalModelHash, modelHash);
        assertEq(t.globalModelCid, cid);
        assertEq(t.currentRound, 2);
        assertEq(uint8(zkpot.getRound(id, 1).status), uint8(RoundStatus.Finalized));
        assertEq(zkpot.getRound(id, 2).openBlock, block.number);
        assertEq(t.unclaimedRewards, zkpot.getRound(id, 1).contributorReward + zkpot.getRound(id, 1).leaderBonus);
    }

    // ================================================================= finalizeWithoutAggregator

    /// @notice A task whose aggregator never publishes, with a fuzzed bond, penalty, number
    ///         of rounds, caller and attempt block: each round is finalised only after its
    ///         aggregateEnd, slashing min(penalty, bond left) to the round's contributor
    ///         and keeping the initial model; at the end pool and bond go to the publisher
    ///         and every wei of pool + bond is either credited or still owed to the
    ///         contributor.
    function testFuzz_finalizeWithoutAggregator_slashesTheBondUntilItIsGone(
        uint256 pool,
        uint256 bond,
        uint256 penalty,
        uint32 rounds,
        uint256 blockNumber,
        address caller
    ) public {
        pool = bound(pool, 0, 100 ether);
        rounds = uint32(bound(rounds, 1, 4));
        TaskConfig memory c = defaultConfig();
        c.numRounds = rounds;
        c.batchCommitments = sealedBatches(rounds);
        c.aggregatorBond = bound(bond, 0, 20 ether);
        c.aggregatorPenalty = bound(penalty, 0, c.aggregatorBond);
        vm.deal(publisher, pool + c.aggregatorBond);
        uint256 id = createTask(c, pool);
        registerAllAndStart(id);

        uint256 bondLeft = c.aggregatorBond;
        for (uint32 round = 1; round <= rounds; round++) {
            proveMask(id, 1);
            vm.prank(caller);
            vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongRoundStatus.selector, id, round, RoundStatus.Open));
            zkpot.finalizeWithoutAggregator(id);

            toAggregatePhase(id);
            zkpot.closeRound(id, new address[](0));
            ZKPoT.Round memory r = zkpot.getRound(id, round);
            vm.roll(bound(blockNumber, r.proofEnd + 1, r.aggregateEnd + 5));
            if (block.number <= r.aggregateEnd) {
                vm.prank(caller);
                vm.expectRevert(
                    abi.encodeWithSelector(ZKPoTAggregationNotOverdue.selector, id, round, block.number, r.aggregateEnd)
                );
                zkpot.finalizeWithoutAggregator(id);
                vm.roll(r.aggregateEnd + 1);
            }
            ZKPoT.Task memory before = zkpot.getTask(id);
            uint256 slash = _min(c.aggregatorPenalty, bondLeft);
            bondLeft -= slash;
            vm.expectEmit(address(zkpot));
            // One accepted contribution: its final reward takes the whole penalty.
            emit AggregatorSlashed(id, round, aggregator, slash, r.contributorReward + slash);
            vm.prank(caller);
            zkpot.finalizeWithoutAggregator(id);

            ZKPoT.Task memory t = zkpot.getTask(id);
            RoundRecord memory rec =
                expectedRecord(id, round, before.headRecord, c.initialModelHash, c.initialModelCid, address(0));
            assertEq(zkpot.recordHash(id, round), keccak256(abi.encode(rec)));
            assertEq(t.globalModelHash, c.initialModelHash);
            // One accepted contribution: it gets the whole penalty.
            assertEq(zkpot.getRound(id, round).contributorReward, r.contributorReward + slash);
            assertEq(t.unclaimedRewards, before.unclaimedRewards + slash);
            if (round < rounds) {
                assertEq(t.aggregatorBond, bondLeft);
                assertEq(t.rewardPool, before.rewardPool);
                assertEq(t.currentRound, round + 1);
            } else {
                // The last round refunds what is left of the pool and of the slashed bond.
                assertEq(zkpot.creditOf(publisher), before.rewardPool + before.aggregatorBond - slash);
            }
        }
        ZKPoT.Task memory done = zkpot.getTask(id);
        assertEq(uint8(done.status), uint8(TaskStatus.Completed));
        assertEq(done.rewardPool + done.aggregatorBond, 0);
        assertEq(zkpot.creditOf(publisher) + done.unclaimedRewards, pool + c.aggregatorBond);
    }

    // ================================================================= slashMissedProof

    /// @notice Slashing a client with a fuzzed stake and penalty, that proved or not, in a
    ///         round whose batch was revealed or not, at a fuzzed block, by a fuzzed
    ///         caller: a fault exists only for a commitment not proven once the proof
    ///         phase of a revealed round is over (a proof on a batch never revealed could
    ///         not be made); it costs exactly the penalty, which joins the pool, and is
    ///         punished once.
    function testFuzz_slashMissedProof_onlyAMissedProofAfterTheProofPhase(
        uint256 penalty,
        uint256 stake,
        bool proves,
        bool revealed,
        uint256 blockNumber,
        address caller
    ) public {
        TaskConfig memory c = defaultConfig();
        c.missedProofPenalty = bound(penalty, 1, c.minStake);
        uint256 id = createTask(c, POOL);
        stake = bound(stake, c.minStake, 10 ether);
        vm.prank(clients[0]);
        zkpot.register{value: stake}(id);
        vm.roll(zkpot.getTask(id).startBlock);
        commitTo(id, clients[0], A);
        proves = proves && revealed;
        if (revealed) toProofPhase(id);
        if (proves) submitFor(id, clients[0], A);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.roll(bound(blockNumber, r.commitEnd + 1, r.aggregateEnd + 5));
        bool fault = revealed && !proves && block.number > r.proofEnd;

        vm.prank(caller);
        if (fault) {
            vm.expectEmit(address(zkpot));
            emit ClientSlashed(id, 1, clients[0], c.missedProofPenalty);
        } else {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTNoFault.selector, id, clients[0]));
        }
        zkpot.slashMissedProof(id, clients[0]);

        uint256 slashed = fault ? c.missedProofPenalty : 0;
        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(zkpot.getMember(id, clients[0]).stake, stake - slashed);
        assertEq(t.totalStake, stake - slashed);
        assertEq(t.rewardPool, POOL + slashed);
        assertEq(zkpot.getMember(id, clients[0]).pendingRound, proves || fault ? 0 : 1);
        if (fault) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTNoFault.selector, id, clients[0]));
            zkpot.slashMissedProof(id, clients[0]);
        }
    }

    /// @notice After the task completed, a fuzzed penalty for a missed proof in its last
    ///         round is credited to the publisher, since the pool is closed.
    function testFuzz_slashMissedProof_afterTheEndPaysThePublisher(uint256 penalty, address caller) public {
        TaskConfig memory c = defaultConfig();
        c.numRounds = 1;
        c.batchCommitments = sealedBatches(1);
        c.missedProofPenalty = bound(penalty, 1, c.minStake);
        uint256 id = createTask(c, POOL);
        registerAllAndStart(id);
        commitTo(id, clients[3], B); // never proves
        proveMask(id, 1);
        toAggregatePhase(id);
        publish(id, keccak256("final"), "bafkreifinal");
        uint256 credit = zkpot.creditOf(publisher);

        vm.prank(caller);
        zkpot.slashMissedProof(id, clients[3]);
        assertEq(zkpot.creditOf(publisher), credit + c.missedProofPenalty);
        assertEq(zkpot.getTask(id).rewardPool, 0);
        assertEq(zkpot.getMember(id, clients[3]).stake, STAKE - c.missedProofPenalty);
    }

    // ================================================================= claimReward

    /// @notice Claims with a fuzzed pool, leader share, number of rounds, threshold and set of
    ///         contributions: nothing before the close; then each accepted contributor is
    ///         credited its share (plus the bonus for the leader) exactly once, the others
    ///         nothing, and the credits add up to exactly what the round took from the pool.
    function testFuzz_claimReward_paysExactlyWhatTheRoundTook(
        uint256 pool,
        uint16 bps,
        uint32 rounds,
        uint32 threshold,
        uint256 mask
    ) public {
        pool = bound(pool, 0, 1e30);
        bps = uint16(bound(bps, 0, 10_000));
        rounds = uint32(bound(rounds, 1, 5));
        threshold = uint32(bound(threshold, 0, 5));
        mask = bound(mask, 1, 7);
        uint256 id = rewardTask(pool, bps, rounds, threshold);
        registerAllAndStart(id);
        proveMask(id, mask);
        toAggregatePhase(id);
        for (uint256 i = 0; i < 3; i++) {
            if ((mask >> i) & 1 == 0) continue;
            vm.prank(clients[i]);
            vm.expectRevert(abi.encodeWithSelector(ZKPoTNoReward.selector, id, 1, clients[i]));
            zkpot.claimReward(id, 1); // not closed yet
        }
        zkpot.closeRound(id, new address[](0));
        // Claims open once the round is finalised (a round with nothing accepted already is).
        if (zkpot.getRound(id, 1).status == RoundStatus.Closed) {
            if (mask & 1 != 0 && fixtures[A].correct >= threshold) {
                vm.prank(clients[0]);
                vm.expectRevert(abi.encodeWithSelector(ZKPoTNoReward.selector, id, 1, clients[0]));
                zkpot.claimReward(id, 1);
            }
            vm.prank(aggregator);
            zkpot.publishGlobalModel(id, 1, unproven(keccak256("m1"), "bafkreimodel1"));
        }
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        ZKPoT.Task memory t = zkpot.getTask(id);
        uint256 taken = t.unclaimedRewards;
        // What the round took left the pool (a one-round task with nothing accepted
        // completes at once and refunds the whole pool instead).
        if (t.status == TaskStatus.Active) assertEq(t.rewardPool + taken, pool);
        else assertEq(zkpot.creditOf(publisher), pool + BOND - taken);

        uint256 credited;
        for (uint256 i = 0; i < clients.length; i++) {
            bool accepted = i < 3 && (mask >> i) & 1 != 0 && fixtures[i].correct >= threshold;
            vm.prank(clients[i]);
            if (!accepted) vm.expectRevert(abi.encodeWithSelector(ZKPoTNoReward.selector, id, 1, clients[i]));
            zkpot.claimReward(id, 1);
            if (!accepted) continue;
            uint256 amount = zkpot.creditOf(clients[i]);
            assertEq(amount, r.contributorReward + (clients[i] == r.leader ? r.leaderBonus : 0));
            credited += amount;
            vm.prank(clients[i]);
            vm.expectRevert(abi.encodeWithSelector(ZKPoTAlreadyClaimed.selector, id, 1, clients[i]));
            zkpot.claimReward(id, 1);
        }
        assertEq(credited, taken);
        assertEq(zkpot.getTask(id).unclaimedRewards, 0);
        assertLe(taken, pool / rounds);
        if (r.acceptedCount == 0) assertEq(taken, 0);
        else assertLt(pool / rounds - taken, r.acceptedCount);
    }

    // ================================================================= releaseStake

    /// @notice Releasing a fuzzed stake while the task runs, after it was cancelled or after
    ///         it completed (with or without an unpunished missed proof): locked while
    ///         active; otherwise the stake minus any pending penalty (or, for a client
    ///         that never proved, the registration bond) is credited, once.
    function testFuzz_releaseStake_onlyOnceTheTaskIsOver(uint256 stake, uint256 outcome, bool missed) public {
        TaskConfig memory c = defaultConfig();
        c.numRounds = 1;
        c.batchCommitments = sealedBatches(1);
        uint256 id = createTask(c, POOL);
        stake = bound(stake, STAKE, 50 ether);
        vm.prank(clients[0]);
        zkpot.register{value: stake}(id);
        register(id, clients[1]);
        outcome = bound(outcome, 0, 2);
        missed = missed && outcome == 2;
        if (outcome == 1) {
            vm.prank(publisher);
            zkpot.cancelTask(id);
        } else {
            vm.roll(zkpot.getTask(id).startBlock);
            if (missed) commitTo(id, clients[0], B);
            proveMask(id, 2); // client 1 proves B; client 0, if it committed, never does
        }
        if (outcome == 2) {
            toAggregatePhase(id);
            publish(id, keccak256("final"), "bafkreifinal");
        }
        ZKPoT.Task memory t = zkpot.getTask(id);
        uint256 publisherCredit = zkpot.creditOf(publisher);

        vm.prank(clients[0]);
        if (outcome == 0) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTStakeLocked.selector, id, TaskStatus.Active));
            zkpot.releaseStake(id);
            assertEq(zkpot.creditOf(clients[0]), 0);
            return;
        }
        zkpot.releaseStake(id);
        // After a completed task: slashed for the missed proof, or, never having proved
        // nor been slashed, the registration bond forfeited; once either way.
        uint256 penalty = outcome == 2 ? c.missedProofPenalty : 0;
        assertEq(zkpot.creditOf(clients[0]), stake - penalty);
        assertEq(zkpot.creditOf(publisher), publisherCredit + penalty);
        assertEq(zkpot.getTask(id).totalStake, t.totalStake - stake);
        assertEq(zkpot.getMember(id, clients[0]).stake, 0);

        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoStake.selector, id, clients[0]));
        zkpot.releaseStake(id);
    }

    // ================================================================= leave

    /// @notice A client leaves at a fuzzed block of a fuzzed scenario (before the start;
    ///         after proving; after a missed proof; idle): refused with a proof pending;
    ///         otherwise its stake comes back less the registration bond exactly when, the
    ///         task having started, it neither proved nor was slashed; the money stays
    ///         accounted for and the client can no longer commit.
    function testFuzz_leave_returnsTheStakeLessAnUnsettledBond(uint256 scenario, uint256 blockNumber) public {
        uint256 id = createTask();
        register(id, clients[0]);
        register(id, clients[1]);
        scenario = bound(scenario, 0, 3);
        ZKPoT.Task memory t = zkpot.getTask(id);
        bool started = scenario != 0;
        if (started) {
            vm.roll(t.startBlock);
            if (scenario == 1) commitTo(id, clients[0], A); // proves it below
            if (scenario == 2) commitTo(id, clients[0], B); // never proves
            commitTo(id, clients[1], A_TWIN);
            toProofPhase(id);
            if (scenario == 1) submitFor(id, clients[0], A);
            submitFor(id, clients[1], A_TWIN);
            ZKPoT.Round memory r = zkpot.getRound(id, 1);
            vm.roll(bound(blockNumber, block.number, r.aggregateEnd));
        } else {
            vm.roll(bound(blockNumber, block.number, t.startBlock - 1));
        }
        bool pending = scenario == 2 && block.number <= zkpot.getRound(id, 1).proofEnd;
        uint256 held = address(zkpot).balance;
        uint256 pool = zkpot.getTask(id).rewardPool;

        vm.prank(clients[0]);
        if (pending) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTProofPending.selector, id, clients[0], 1));
            zkpot.leave(id);
            return;
        }
        zkpot.leave(id);
        uint256 lost = started && scenario != 1 ? PENALTY : 0;
        assertEq(zkpot.creditOf(clients[0]), STAKE - lost);
        assertEq(zkpot.getTask(id).rewardPool, pool + lost); // the task still runs
        assertEq(zkpot.getTask(id).clientCount, 1);
        assertEq(zkpot.getTask(id).totalStake, STAKE);
        assertEq(address(zkpot).balance, held);
        assertFalse(zkpot.getMember(id, clients[0]).registered);
    }

    // ================================================================= withdraw

    /// @notice Fuzzed pool, bond and stakes are refunded through credits; each account
    ///         withdraws exactly its credit once, a stranger nothing, and the contract ends
    ///         with no ETH.
    function testFuzz_withdraw_paysEachCreditExactlyOnce(
        uint256 pool,
        uint256 bond,
        uint256[4] memory stakes,
        address stranger
    ) public {
        pool = bound(pool, 0, 500 ether);
        TaskConfig memory c = defaultConfig();
        c.aggregatorBond = bound(bond, 0, 50 ether);
        c.aggregatorPenalty = 0;
        vm.deal(publisher, pool + c.aggregatorBond);
        uint256 id = createTask(c, pool);
        for (uint256 i = 0; i < clients.length; i++) {
            stakes[i] = bound(stakes[i], STAKE, 100 ether);
            vm.prank(clients[i]);
            zkpot.register{value: stakes[i]}(id);
        }
        vm.prank(publisher);
        zkpot.cancelTask(id);
        for (uint256 i = 0; i < clients.length; i++) {
            vm.prank(clients[i]);
            zkpot.releaseStake(id);
        }
        vm.assume(stranger != publisher && zkpot.creditOf(stranger) == 0);

        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNothingToWithdraw.selector, stranger));
        zkpot.withdraw();
        withdrawAndCheck(publisher, pool + c.aggregatorBond);
        for (uint256 i = 0; i < clients.length; i++) {
            withdrawAndCheck(clients[i], stakes[i]);
        }
        assertEq(address(zkpot).balance, 0);
    }

    function withdrawAndCheck(address account, uint256 amount) internal {
        uint256 before = account.balance;
        uint256 held = address(zkpot).balance;
        vm.prank(account);
        if (amount == 0) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTNothingToWithdraw.selector, account));
        } else {
            vm.expectEmit(address(zkpot));
            emit Withdrawn(account, amount);
        }
        zkpot.withdraw();
        assertEq(account.balance, before + amount);
        assertEq(address(zkpot).balance, held - amount);
        assertEq(zkpot.creditOf(account), 0);
        if (amount == 0) return;
        vm.prank(account);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNothingToWithdraw.selector, account));
        zkpot.withdraw();
    }

    // ================================================================= whole tasks

    /// @notice A whole task with fuzzed pool, leader share, rounds, contributions, missed
    ///         proofs, missed reveals and absent aggregator: once everyone claimed
    ///         (rewards and compensations), released and withdrew, every wei deposited has
    ///         been paid out and the contract holds nothing.
    function testFuzz_wholeTask_paysOutEveryWei(uint256 pool, uint16 bps, uint32 rounds, uint256 pattern) public {
        pool = bound(pool, 0, 1_000 ether);
        bps = uint16(bound(bps, 0, 10_000));
        rounds = uint32(bound(rounds, 1, 3));
        uint256 id = rewardTask(pool, bps, rounds, minCorrect);
        registerAllAndStart(id);
        uint256 deposited = address(zkpot).balance;

        for (uint256 round = 1; round <= rounds; round++) {
            uint256 bits = pattern >> (round * 7);
            // Client 3 may once commit and never prove; it is slashed at its stake's release
            // (unless the round's batch is never revealed).
            if (bits & 8 != 0 && zkpot.getMember(id, clients[3]).pendingRound == 0) commitTo(id, clients[3], B);
            if ((bits >> 5) & 3 == 3) {
                // One round in four the publisher misses the reveal: the committed are compensated.
                for (uint256 i = 0; i < 3; i++) {
                    if ((bits >> i) & 1 != 0) commitTo(id, clients[i], fixtureFor(i, round));
                }
                pastRevealWindow(id);
                zkpot.closeRound(id, new address[](0));
                continue;
            }
            uint256 n = proveMask(id, bits & 7);
            toAggregatePhase(id);
            if (n > 0 && bits & 16 != 0) {
                publish(id, keccak256(abi.encode(round)), "bafkreimodel");
            } else {
                zkpot.closeRound(id, new address[](0));
                if (n > 0) {
                    pastAggregateDeadline(id);
                    zkpot.finalizeWithoutAggregator(id);
                }
            }
        }
        assertEq(uint8(zkpot.getTask(id).status), uint8(TaskStatus.Completed));

        uint256 paid;
        for (uint256 i = 0; i < clients.length; i++) {
            address a = clients[i];
            for (uint256 round = 1; round <= rounds; round++) {
                ZKPoT.Contribution memory c = zkpot.getContribution(id, round, a);
                bool compensated = c.commitment != bytes32(0) && zkpot.getRound(id, round).batchDigest == bytes32(0);
                if (!c.accepted && !compensated) continue;
                vm.prank(a);
                zkpot.claimReward(id, round);
            }
            vm.prank(a);
            zkpot.releaseStake(id);
            paid += withdrawAll(a);
        }
        paid += withdrawAll(publisher);
        assertEq(paid, deposited);
        assertEq(address(zkpot).balance, 0);
        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(t.rewardPool + t.aggregatorBond + t.totalStake + t.unclaimedRewards, 0);
    }

    /// @dev Withdraws `account`'s whole credit, if it has any; returns it.
    function withdrawAll(address account) internal returns (uint256 credit) {
        credit = zkpot.creditOf(account);
        if (credit == 0) return 0;
        vm.prank(account);
        zkpot.withdraw();
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function _max(uint256 a, uint256 b) internal pure returns (uint256) {
        return a > b ? a : b;
    }
}
