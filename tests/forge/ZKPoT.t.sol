// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {Vm} from "forge-std/Vm.sol";
import {ZKPoT} from "../../contracts/ZKPoT.sol";
import {ZKPoTBase} from "./ZKPoTBase.sol";
import {Halo2VerifierReusable} from "../../contracts/verifier/Halo2VerifierReusable.sol";
import {CircuitRegistry} from "../../contracts/verifier/CircuitRegistry.sol";

/// @notice Refuses ETH: its withdrawals fail.
contract RejectsEther {
    function withdrawFrom(ZKPoT zkpot) external {
        zkpot.withdraw();
    }

    function register(ZKPoT zkpot, uint256 taskId) external payable {
        zkpot.register{value: msg.value}(taskId);
    }

    function release(ZKPoT zkpot, uint256 taskId) external {
        zkpot.releaseStake(taskId);
    }
}

/// @notice Re-enters the contract from its receive hook, trying to withdraw twice.
contract Reenterer {
    ZKPoT private immutable zkpot;
    uint256 public reentries;
    bytes public reentryError;

    constructor(ZKPoT z) {
        zkpot = z;
    }

    function register(uint256 taskId) external payable {
        zkpot.register{value: msg.value}(taskId);
    }

    function release(uint256 taskId) external {
        zkpot.releaseStake(taskId);
    }

    function attack() external {
        zkpot.withdraw();
    }

    receive() external payable {
        reentries += 1;
        try zkpot.withdraw() {}
        catch (bytes memory err) {
            reentryError = err;
        }
    }
}

/// @notice Unit tests of every external function of ZKPoT, with real ezkl proofs.
contract ZKPoTTest is ZKPoTBase {
    // ================================================================= createTask

    function test_createTask_recordsParametersFundsAndGenesisRecord() public {
        TaskConfig memory c = defaultConfig();
        vm.recordLogs();
        uint256 id = createTask(c, POOL);

        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(id, 1);
        assertEq(zkpot.taskCount(), 1);
        assertEq(t.publisher, publisher);
        assertEq(t.aggregator, aggregator);
        assertEq(t.rewardPool, POOL);
        assertEq(t.aggregatorBond, BOND);
        assertEq(t.startBlock, block.number + REG_BLOCKS);
        assertEq(uint8(t.status), uint8(TaskStatus.Active));
        assertEq(address(zkpot).balance, POOL + BOND);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Registration));

        assertEq(zkpot.recordHash(id, 0), keccak256(abi.encode(genesisRecord(id, c))));
        assertEq(t.headRecord, zkpot.recordHash(id, 0));

        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        assertEq(r.openBlock, t.startBlock);
        assertEq(t.revealBlocks, REVEAL_BLOCKS);
        assertEq(r.commitEnd, t.startBlock + COMMIT_BLOCKS - 1);
        assertEq(r.revealEnd, r.commitEnd + REVEAL_BLOCKS);
        assertEq(r.proofEnd, r.revealEnd + PROOF_BLOCKS);
        assertEq(r.aggregateEnd, r.proofEnd + AGG_BLOCKS);
        assertEq(r.batchDigest, bytes32(0)); // not revealed
        assertEq(r.batchLength, 0);

        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3); // TaskCreated, RoundRecorded(0), RoundOpened(1)
        assertEq(logs[0].topics[1], bytes32(id)); // TaskCreated(taskId, publisher, ...)
        assertEq(logs[1].topics[3], zkpot.recordHash(id, 0)); // RoundRecorded(.., recordHash)
        assertEq(logs[2].topics[0], RoundOpened.selector);
        assertEq(logs[2].topics[2], bytes32(uint256(1))); // RoundOpened(taskId, round 1, ...)
        assertEq(
            logs[2].data,
            abi.encode(
                c.initialModelHash,
                r.openBlock,
                r.commitEnd,
                r.revealEnd,
                r.proofEnd,
                r.disputeEnd,
                r.answerEnd,
                r.aggregateEnd
            )
        );
    }

    function test_createTask_rejectsEachInvalidParameter() public {
        for (uint256 i = 0; i < 20; i++) {
            TaskConfig memory c = defaultConfig();
            string memory name = breakParameter(c, i, 0);
            vm.expectRevert(abi.encodeWithSelector(ZKPoTInvalidTaskParameter.selector, name));
            createTask(c, POOL);
        }
        assertEq(zkpot.taskCount(), 0);
    }

    function test_createTask_needsARevealWindowAndOneBatchCommitmentPerRound() public {
        TaskConfig memory c = defaultConfig();
        c.revealBlocks = 0;
        vm.expectRevert(abi.encodeWithSelector(ZKPoTInvalidTaskParameter.selector, "revealBlocks"));
        createTask(c, POOL);
        c.proofBlocks = 0; // checked right after commitBlocks, before proofBlocks
        vm.expectRevert(abi.encodeWithSelector(ZKPoTInvalidTaskParameter.selector, "revealBlocks"));
        createTask(c, POOL);
        c.commitBlocks = 0;
        vm.expectRevert(abi.encodeWithSelector(ZKPoTInvalidTaskParameter.selector, "commitBlocks"));
        createTask(c, POOL);

        uint32[4] memory lengths = [uint32(0), 1, ROUNDS - 1, ROUNDS + 1];
        for (uint256 k = 0; k < lengths.length; k++) {
            c = defaultConfig();
            c.batchCommitments = sealedBatches(lengths[k]);
            vm.expectRevert(abi.encodeWithSelector(ZKPoTInvalidTaskParameter.selector, "batchCommitments"));
            createTask(c, POOL);
        }
        c.circuitCid = ""; // checked last, after circuitCid
        vm.expectRevert(abi.encodeWithSelector(ZKPoTInvalidTaskParameter.selector, "circuitCid"));
        createTask(c, POOL);
        assertEq(zkpot.taskCount(), 0);

        c = defaultConfig();
        c.numRounds = ROUNDS + 1;
        c.batchCommitments = sealedBatches(ROUNDS + 1);
        uint256 id = createTask(c, POOL);
        assertEq(zkpot.getTask(id).numRounds, ROUNDS + 1);
    }

    function test_constructor_needsAVerifierWithCode() public {
        address nothing = makeAddr("no code");
        vm.expectRevert(abi.encodeWithSelector(ZKPoTVerifierWithoutCode.selector, nothing));
        new ZKPoT(nothing);
        assertEq(zkpot.verifier(), verifier);
    }

    function test_createTask_requiresTheBond() public {
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTInsufficientFunding.selector, BOND - 1, BOND));
        zkpot.createTask{value: BOND - 1}(defaultConfig());
    }

    // ================================================================= registerCircuit

    uint256 internal constant SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    function tampered(uint256 index, uint256 word) internal view returns (bytes32[] memory twin) {
        twin = new bytes32[](vka.length);
        for (uint256 i = 0; i < vka.length; i++) {
            twin[i] = vka[i];
        }
        twin[index] = bytes32(word);
    }

    function verifies(bytes32[] memory artefact, uint256 fixture) internal returns (bool) {
        Halo2VerifierReusable(verifier).registerVka(artefact);
        Submission memory s = submission(fixture, bytes32(0));
        (bool ok, bytes memory ret) = verifier.staticcall(
            abi.encodeWithSignature("verifyProof(bytes,uint256[],bytes32[])", s.proof, s.instances, artefact)
        );
        return ok && ret.length >= 32 && abi.decode(ret, (uint256)) == 1;
    }

    /// @dev Word index of the gate program's first word (word 26 holds its memory address).
    function gateProgram() internal view returns (uint256) {
        return (uint256(vka[26]) - 0xa0) / 0x20;
    }

    /// @dev Word index of the permutation program's last product word: after the
    ///      header (last product index in its low byte, then the bytes per product),
    ///      one group of words per product.
    function lastPermutationWord() internal view returns (uint256) {
        uint256 program = (uint256(vka[27]) - 0xa0) / 0x20;
        uint256 header = uint256(vka[program]);
        return program + 1 + (header & 0xff) * (((header >> 8) & 0xffff) / 0x20);
    }

    function test_registerCircuit_refusesAFieldWordPlusTheModulus() public {
        // Words the verifier reads only modulo the field: n^-1, omega, omega^-1 and the
        // constants before the gate program (counted back from it: the fixed commitments
        // before them vary with the circuit). Each twin accepts every proof of the circuit.
        uint256 gate = gateProgram();
        uint256[5] memory words = [uint256(6), 7, 8, gate - 6, gate - 1];
        for (uint256 k = 0; k < words.length; k++) {
            uint256 i = words[k];
            bytes32[] memory twin = tampered(i, uint256(vka[i]) + SCALAR_FIELD);
            assertTrue(verifies(twin, A), "the verifier alone accepts the twin");
            vm.expectRevert(abi.encodeWithSelector(ZKPoTNonCanonicalKeyArtefact.selector, i, twin[i]));
            zkpot.registerCircuit(twin);
        }
    }

    function test_registerCircuit_refusesIgnoredBitsInCountsAndPointers() public {
        uint256[6] memory words = [uint256(3), 11, 25, 30, 31, 32];
        uint256[6] memory values = [
            uint256(vka[3]) | (1 << 255), // the evaluation count: multiplied by 32, top bits lost
            1, // accumulator fields while there is no accumulator
            uint256(vka[25]) ^ 1, // the quotient pointer
            uint256(vka[30]) + SCALAR_FIELD, // the rescaling pointer
            uint256(vka[31]) | (1 << 255),
            uint256(vka[32]) | (1 << 200)
        ];
        for (uint256 k = 0; k < words.length; k++) {
            bytes32[] memory twin = tampered(words[k], values[k]);
            vm.expectRevert(abi.encodeWithSelector(ZKPoTNonCanonicalKeyArtefact.selector, words[k], twin[words[k]]));
            zkpot.registerCircuit(twin);
        }
        bytes32[] memory shortened = new bytes32[](33);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTMalformedKeyArtefact.selector, 33));
        zkpot.registerCircuit(shortened);
    }

    function test_registerCircuit_keepsTheArtefactOnceAndRegistersItOnTheVerifier() public {
        ZKPoT fresh = new ZKPoT(address(new Halo2VerifierReusable()));
        CircuitRegistry registry = CircuitRegistry(fresh.circuits());
        Submission memory s = submission(A, bytes32(0));
        assertFalse(registry.verify(vkaDigest, s.proof, s.instances)); // not registered yet
        vm.recordLogs();
        vm.expectEmit(address(fresh));
        emit CircuitRegistered(vkaDigest, fixtures[A].proof.length, address(this));
        assertEq(fresh.registerCircuit(vka), vkaDigest);
        // The registry keeps the artefact's words as code (after SSTORE2's STOP byte),
        // and verifies under them.
        assertEq(registry.artefactOf(vkaDigest).code, abi.encodePacked(hex"00", vka));
        assertTrue(registry.verify(vkaDigest, s.proof, s.instances));
        s.instances[0] += 1;
        assertFalse(registry.verify(vkaDigest, s.proof, s.instances));
        s.instances[0] -= 1;
        // The verifier knows the artefact too.
        (bool ok, bytes memory ret) = fresh.verifier()
            .staticcall(abi.encodeWithSignature("verifyProof(bytes,uint256[],bytes32[])", s.proof, s.instances, vka));
        assertTrue(ok && abi.decode(ret, (uint256)) == 1);
        assertEq(fresh.circuitProofLength(vkaDigest), fixtures[A].proof.length);
        vm.recordLogs();
        assertEq(fresh.registerCircuit(vka), vkaDigest); // again: nothing happens
        assertEq(vm.getRecordedLogs().length, 0);
    }

    function test_submitProof_aProofCannotBeReplayedUnderASecondArtefactOfTheCircuit() public {
        // An unused bit of the permutation program: bits 32-47 of a permutation
        // argument's word name the previous product's next evaluation, so in the last
        // one they are never read. The twin has another digest, accepts the circuit's
        // proofs, and passes the header checks; it shares the circuit key.
        uint256 word = lastPermutationWord();
        bytes32[] memory twin = tampered(word, uint256(vka[word]) ^ (1 << 40));
        assertTrue(verifies(twin, A));
        bytes32 twinDigest = zkpot.registerCircuit(twin);
        assertTrue(twinDigest != vkaDigest);
        uint256 first = startedTask();
        playRound(first, models(A));
        assertEq(
            zkpot.modelSubmittedAt(twinDigest, fixtures[A].weightsHash),
            zkpot.modelSubmittedAt(vkaDigest, fixtures[A].weightsHash)
        );

        TaskConfig memory cfg = defaultConfig();
        cfg.vkaDigest = twinDigest;
        uint256 second = createTask(cfg, POOL);
        register(second, clients[1]);
        vm.roll(zkpot.getTask(second).startBlock);
        bytes32 salt = keccak256("mine");
        bytes32 cm = zkpot.commitmentOf(clients[1], second, 1, fixtures[A].weightsHash, salt);
        vm.prank(clients[1]);
        zkpot.commit(second, 1, cm);
        toProofPhase(second);
        Submission memory replay = submission(A, salt);
        vm.prank(clients[1]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTDuplicateModel.selector, second, 1, fixtures[A].weightsHash));
        zkpot.submitProof(second, 1, replay);
    }

    // ================================================================= cancelTask

    function test_cancelTask_refundsThePublisherAndReleasesStakes() public {
        uint256 id = createTask();
        register(id, clients[0]);
        vm.prank(publisher);
        zkpot.cancelTask(id);
        assertEq(zkpot.creditOf(publisher), POOL + BOND);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Cancelled));

        vm.prank(clients[1]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTTaskNotActive.selector, id, TaskStatus.Cancelled));
        zkpot.register{value: STAKE}(id);

        vm.prank(clients[0]);
        zkpot.releaseStake(id);
        assertEq(zkpot.creditOf(clients[0]), STAKE);
        uint256 before = publisher.balance;
        vm.prank(publisher);
        zkpot.withdraw();
        assertEq(publisher.balance, before + POOL + BOND);
    }

    function test_cancelTask_onlyByThePublisher() public {
        uint256 id = createTask();
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotPublisher.selector, id, aggregator));
        zkpot.cancelTask(id);
    }

    function test_cancelTask_onlyBeforeTheStart() public {
        uint256 id = createTask();
        uint256 start = zkpot.getTask(id).startBlock;
        vm.roll(start);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTRegistrationClosed.selector, id, start, start));
        zkpot.cancelTask(id);
    }

    function test_unknownTask() public {
        vm.expectRevert(abi.encodeWithSelector(ZKPoTUnknownTask.selector, 7));
        zkpot.getTask(7);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTUnknownTask.selector, 7));
        zkpot.closeRound(7, new address[](0));
    }

    // ================================================================= register

    function test_register_recordsTheStake() public {
        uint256 id = createTask();
        vm.prank(clients[0]);
        vm.expectEmit(address(zkpot));
        emit ClientRegistered(id, clients[0], 2 ether);
        zkpot.register{value: 2 ether}(id);
        ZKPoT.Member memory m = zkpot.getMember(id, clients[0]);
        assertTrue(m.registered);
        assertEq(m.stake, 2 ether);
        assertEq(zkpot.getTask(id).totalStake, 2 ether);
    }

    function test_register_rejections() public {
        TaskConfig memory c = defaultConfig();
        c.maxClients = 2;
        uint256 id = createTask(c, POOL);

        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTStakeTooLow.selector, STAKE - 1, STAKE));
        zkpot.register{value: STAKE - 1}(id);

        register(id, clients[0]);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTAlreadyRegistered.selector, id, clients[0]));
        zkpot.register{value: STAKE}(id);

        register(id, clients[1]);
        vm.prank(clients[2]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTTaskFull.selector, id, 2));
        zkpot.register{value: STAKE}(id);

        uint256 start = zkpot.getTask(id).startBlock;
        vm.roll(start);
        vm.prank(clients[3]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTRegistrationClosed.selector, id, start, start));
        zkpot.register{value: STAKE}(id);
    }

    // ================================================================= commit

    function test_commit_inTheCommitPhaseOnly() public {
        uint256 id = createTask();
        register(id, clients[0]);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        bytes32 cm = keccak256("commitment");

        vm.prank(clients[0]);
        vm.expectRevert(
            abi.encodeWithSelector(ZKPoTNotInCommitPhase.selector, id, 1, block.number, r.openBlock, r.commitEnd)
        );
        zkpot.commit(id, 1, cm);

        vm.roll(r.commitEnd + 1);
        vm.prank(clients[0]);
        vm.expectRevert(
            abi.encodeWithSelector(ZKPoTNotInCommitPhase.selector, id, 1, r.commitEnd + 1, r.openBlock, r.commitEnd)
        );
        zkpot.commit(id, 1, cm);

        vm.roll(r.commitEnd);
        vm.prank(clients[0]);
        vm.expectEmit(address(zkpot));
        emit Committed(id, 1, clients[0], cm);
        zkpot.commit(id, 1, cm);
        assertEq(zkpot.getContribution(id, 1, clients[0]).commitment, cm);
        assertEq(zkpot.getMember(id, clients[0]).pendingRound, 1);
    }

    function test_commit_rejections() public {
        uint256 id = startedTask();
        vm.startPrank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTEmptyCommitment.selector, clients[0]));
        zkpot.commit(id, 1, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongRound.selector, id, 2, 1));
        zkpot.commit(id, 2, keccak256("c"));
        zkpot.commit(id, 1, keccak256("c"));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTAlreadyCommitted.selector, id, 1, clients[0]));
        zkpot.commit(id, 1, keccak256("d"));
        vm.stopPrank();

        address outsider = makeAddr("outsider");
        vm.prank(outsider);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotEligible.selector, id, outsider, 0));
        zkpot.commit(id, 1, keccak256("c"));
    }

    function test_commit_notInAClosedRound() public {
        uint256 id = startedTask();
        playRound(id, models(A));
        zkpot.closeRound(id, new address[](0));
        vm.prank(clients[1]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongRoundStatus.selector, id, 1, RoundStatus.Closed));
        zkpot.commit(id, 1, keccak256("late"));
    }

    // ================================================================= revealBatch

    function test_revealBatch_opensTheRoundsCommitmentAndEmitsTheDigest() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.roll(r.revealEnd); // the last block of the window
        vm.expectEmit(address(zkpot));
        emit BatchRevealed(id, 1, keccak256(batches[0]), BATCH_CID);
        vm.prank(publisher);
        zkpot.revealBatch(id, 1, batches[0], batchSalt(1), BATCH_CID);

        r = zkpot.getRound(id, 1);
        assertEq(r.batchDigest, keccak256(batches[0]));
        assertEq(r.batchLength, batches[0].length);
        assertEq(r.batchLength, 64); // one BN254 point
        assertEq(r.revealEnd, r.commitEnd + REVEAL_BLOCKS);
        assertEq(r.proofEnd, r.revealEnd + PROOF_BLOCKS);
        // Every proof on the batch begins with its commitment.
        assertEq(keccak256(slice(fixtures[A].proof, 64, r.batchLength)), r.batchDigest);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Prove));
        submitFor(id, clients[0], A);
        assertTrue(zkpot.getContribution(id, 1, clients[0]).accepted);
    }

    function test_revealBatch_mustOpenTheBatchCommitment() public {
        uint256 id = startedTask();
        vm.roll(zkpot.getRound(id, 1).commitEnd + 1);
        bytes32 expected = sealedBatch(0, 1);
        bytes memory offByOneBit = batches[0];
        offByOneBit[63] = bytes1(uint8(offByOneBit[63]) ^ 1);

        vm.startPrank(publisher);
        // Wrong salt: another round's.
        bytes32 opened = keccak256(abi.encode(keccak256(batches[0]), batchSalt(2)));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTBatchMismatch.selector, id, 1, expected, opened));
        zkpot.revealBatch(id, 1, batches[0], batchSalt(2), BATCH_CID);
        // Wrong bytes: round 2's batch under round 1's salt, or the batch one bit off.
        opened = keccak256(abi.encode(keccak256(batches[1]), batchSalt(1)));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTBatchMismatch.selector, id, 1, expected, opened));
        zkpot.revealBatch(id, 1, batches[1], batchSalt(1), BATCH_CID);
        opened = keccak256(abi.encode(keccak256(offByOneBit), batchSalt(1)));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTBatchMismatch.selector, id, 1, expected, opened));
        zkpot.revealBatch(id, 1, offByOneBit, batchSalt(1), BATCH_CID);
        // No bytes at all.
        opened = keccak256(abi.encode(keccak256(""), batchSalt(1)));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTBatchMismatch.selector, id, 1, expected, opened));
        zkpot.revealBatch(id, 1, "", batchSalt(1), BATCH_CID);
        // The right opening without a CID to fetch the batch from is no reveal either.
        vm.expectRevert(abi.encodeWithSelector(ZKPoTBatchMismatch.selector, id, 1, expected, expected));
        zkpot.revealBatch(id, 1, batches[0], batchSalt(1), "");
        assertEq(zkpot.getRound(id, 1).batchDigest, bytes32(0));

        zkpot.revealBatch(id, 1, batches[0], batchSalt(1), BATCH_CID);
        vm.stopPrank();
        assertEq(zkpot.getRound(id, 1).batchDigest, keccak256(batches[0]));
    }

    function test_revealBatch_onlyInTheRevealWindow() public {
        uint256 id = createTask();
        uint256 late = createTask(); // the same schedule
        register(id, clients[0]);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        uint256[2] memory early = [block.number, r.commitEnd];
        for (uint256 k = 0; k < early.length; k++) {
            vm.roll(early[k]);
            vm.prank(publisher);
            vm.expectRevert(
                abi.encodeWithSelector(ZKPoTNotInRevealWindow.selector, id, 1, early[k], r.commitEnd + 1, r.revealEnd)
            );
            zkpot.revealBatch(id, 1, batches[0], batchSalt(1), BATCH_CID);
        }
        vm.roll(r.commitEnd + 1);
        vm.prank(publisher);
        zkpot.revealBatch(id, 1, batches[0], batchSalt(1), BATCH_CID);
        assertEq(zkpot.getRound(id, 1).batchDigest, keccak256(batches[0]));

        vm.roll(r.revealEnd + 1);
        vm.prank(publisher);
        vm.expectRevert(
            abi.encodeWithSelector(
                ZKPoTNotInRevealWindow.selector, late, 1, r.revealEnd + 1, r.commitEnd + 1, r.revealEnd
            )
        );
        zkpot.revealBatch(late, 1, batches[0], batchSalt(1), BATCH_CID);
        assertEq(zkpot.getRound(late, 1).batchDigest, bytes32(0));
    }

    function test_revealBatch_once() public {
        uint256 id = startedTask();
        revealBatch(id);
        vm.startPrank(publisher);
        // Refused as a second reveal before its opening is even looked at.
        vm.expectRevert(abi.encodeWithSelector(ZKPoTBatchAlreadyRevealed.selector, id, 1));
        zkpot.revealBatch(id, 1, batches[1], batchSalt(1), BATCH_CID);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTBatchAlreadyRevealed.selector, id, 1));
        zkpot.revealBatch(id, 1, batches[0], batchSalt(1), BATCH_CID);
        vm.stopPrank();
        assertEq(zkpot.getRound(id, 1).batchDigest, keccak256(batches[0]));
    }

    function test_revealBatch_onlyByThePublisher() public {
        uint256 id = startedTask();
        vm.roll(zkpot.getRound(id, 1).commitEnd + 1);
        address[3] memory others = [aggregator, clients[0], makeAddr("anyone")];
        for (uint256 k = 0; k < others.length; k++) {
            vm.prank(others[k]);
            vm.expectRevert(abi.encodeWithSelector(ZKPoTNotPublisher.selector, id, others[k]));
            zkpot.revealBatch(id, 1, batches[0], batchSalt(1), BATCH_CID);
        }
        assertEq(zkpot.getRound(id, 1).batchDigest, bytes32(0));
    }

    function test_revealBatch_onlyTheCurrentOpenRoundOfARunningTask() public {
        uint256 id = startedTask();
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongRound.selector, id, 2, 1));
        zkpot.revealBatch(id, 2, batches[0], batchSalt(2), BATCH_CID);

        playRound(id, models(A));
        zkpot.closeRound(id, new address[](0)); // closed, awaiting its global model
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongRoundStatus.selector, id, 1, RoundStatus.Closed));
        zkpot.revealBatch(id, 1, batches[0], batchSalt(1), BATCH_CID);

        uint256 cancelled = createTask();
        vm.startPrank(publisher);
        zkpot.cancelTask(cancelled);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTTaskNotActive.selector, cancelled, TaskStatus.Cancelled));
        zkpot.revealBatch(cancelled, 1, batches[0], batchSalt(1), BATCH_CID);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTUnknownTask.selector, 9));
        zkpot.revealBatch(9, 1, batches[0], batchSalt(1), BATCH_CID);
        vm.stopPrank();
    }

    // ================================================================= submitProof

    function test_submitProof_acceptsARealProofAndRecordsTheVerifiedCount() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A);
        vm.prank(clients[0]);
        vm.expectEmit(address(zkpot));
        emit ContributionVerified(
            id, 1, clients[0], fixtures[A].weightsHash, fixtures[A].correct, true, "bafkreisealed"
        );
        zkpot.submitProof(id, 1, s);

        ZKPoT.Contribution memory c = zkpot.getContribution(id, 1, clients[0]);
        assertTrue(c.submitted && c.accepted);
        assertEq(c.correct, fixtures[A].correct);
        assertEq(c.weightsHash, fixtures[A].weightsHash);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        assertEq(r.leader, clients[0]);
        assertEq(r.acceptedCount, 1);
        assertEq(
            r.contributionsRoot,
            keccak256(abi.encode(bytes32(0), clients[0], fixtures[A].weightsHash, uint32(fixtures[A].correct)))
        );
        assertEq(zkpot.getMember(id, clients[0]).pendingRound, 0);
    }

    function test_submitProof_belowTheThresholdIsVerifiedButNotAccepted() public {
        TaskConfig memory cfg = defaultConfig();
        cfg.minCorrect = uint32(fixtures[A].correct + 1);
        uint256 id = createTask(cfg, POOL);
        register(id, clients[0]);
        vm.roll(zkpot.getTask(id).startBlock);
        playRound(id, models(A));
        ZKPoT.Contribution memory c = zkpot.getContribution(id, 1, clients[0]);
        assertTrue(c.submitted);
        assertFalse(c.accepted);
        assertEq(zkpot.getRound(id, 1).leader, address(0));
    }

    function test_submitProof_onlyInTheProofPhase() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        Submission memory s = submissionFor(id, clients[0], A);
        bytes memory early =
            abi.encodeWithSelector(ZKPoTNotInProofPhase.selector, id, 1, block.number, r.commitEnd + 1, r.proofEnd);
        vm.prank(clients[0]);
        vm.expectRevert(early);
        zkpot.submitProof(id, 1, s);

        vm.roll(r.proofEnd + 1);
        vm.prank(clients[0]);
        vm.expectRevert(
            abi.encodeWithSelector(ZKPoTNotInProofPhase.selector, id, 1, r.proofEnd + 1, r.commitEnd + 1, r.proofEnd)
        );
        zkpot.submitProof(id, 1, s);
    }

    function test_submitProof_rejectsATamperedProof() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A);
        s.proof[200] = bytes1(uint8(s.proof[200]) ^ 0x01); // past both commitments
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTProofRejected.selector, id, clients[0]));
        zkpot.submitProof(id, 1, s);
        assertFalse(zkpot.getContribution(id, 1, clients[0]).submitted);
    }

    function test_submitProof_rejectsRaisingTheProvenCount() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A);
        s.instances[0] += 1;
        s.claimedCorrect += 1;
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTProofRejected.selector, id, clients[0]));
        zkpot.submitProof(id, 1, s);
    }

    function test_submitProof_rejectsAClaimOtherThanTheProof() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A);
        s.claimedCorrect = fixtures[A].correct + 2;
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTClaimMismatch.selector, s.claimedCorrect, fixtures[A].correct));
        zkpot.submitProof(id, 1, s);
    }

    function test_submitProof_rejectsACountBeyondTheEvaluationSet() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A);
        s.instances[0] = evalSamples + 1;
        s.claimedCorrect = evalSamples + 1;
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTCountOutOfRange.selector, evalSamples + 1, evalSamples));
        zkpot.submitProof(id, 1, s);
    }

    function test_submitProof_rejectsAProofWhoseWeightsCommitmentWasSwapped() public {
        // A client commits to B's weights hash but proves A: with B's weights
        // commitment written over A's, the proof opens the commitment and names the
        // round's batch, and the verifier refuses it.
        uint256 id = startedTask();
        commitTo(id, clients[0], B);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A);
        bytes memory other = fixtures[B].proof;
        for (uint256 i = 0; i < 64; i++) {
            s.proof[i] = other[i];
        }
        assertEq(keccak256(slice(s.proof, 0, 64)), fixtures[B].weightsHash);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTProofRejected.selector, id, clients[0]));
        zkpot.submitProof(id, 1, s);
    }

    function test_submitProof_rejectsMalformedInstances() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A);
        s.instances = new uint256[](3);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTMalformedInstances.selector, 3));
        zkpot.submitProof(id, 1, s);
    }

    function test_submitProof_aReplayedProofDoesNotOpenAnotherClientsCommitment() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        // The front-runner copies the victim's commitment: it cannot open it.
        bytes32 victims = zkpot.getContribution(id, 1, clients[0]).commitment;
        vm.prank(clients[1]);
        zkpot.commit(id, 1, victims);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A); // seen in the mempool
        bytes32 opened = zkpot.commitmentOf(clients[1], id, 1, fixtures[A].weightsHash, s.salt);
        vm.prank(clients[1]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTCommitmentMismatch.selector, clients[1], victims, opened));
        zkpot.submitProof(id, 1, s);
        // And an account that never committed cannot submit at all.
        vm.prank(clients[2]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoCommitment.selector, id, 1, clients[2]));
        zkpot.submitProof(id, 1, s);
        submitFor(id, clients[0], A);
        assertTrue(zkpot.getContribution(id, 1, clients[0]).accepted);
    }

    function test_submitProof_aProofFromAnEarlierRoundCannotBeReplayed() public {
        uint256 id = startedTask();
        playRound(id, models(A)); // client 0 reveals model A and its proof in round 1
        publish(id, keccak256("m1"), "cid1");
        // In round 2 client 1 commits to A's (now public) hash and replays the proof.
        bytes32 salt = keccak256("mine");
        bytes32 cm = zkpot.commitmentOf(clients[1], id, 2, fixtures[A].weightsHash, salt);
        vm.prank(clients[1]);
        zkpot.commit(id, 2, cm);
        toProofPhase(id);
        Submission memory replay = submission(A, salt);
        vm.prank(clients[1]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTDuplicateModel.selector, id, 2, fixtures[A].weightsHash));
        zkpot.submitProof(id, 2, replay);
        assertGt(zkpot.modelSubmittedAt(vkaDigest, fixtures[A].weightsHash), 0);
        assertEq(zkpot.modelSubmittedAt(vkaDigest, fixtures[B].weightsHash), 0);
    }

    function test_submitProof_aProofCannotBeReplayedInAnotherTaskOfTheSameCircuit() public {
        uint256 first = startedTask();
        playRound(first, models(A));
        uint256 second = createTask();
        register(second, clients[1]);
        vm.roll(zkpot.getTask(second).startBlock);
        bytes32 salt = keccak256("mine");
        bytes32 cm = zkpot.commitmentOf(clients[1], second, 1, fixtures[A].weightsHash, salt);
        vm.prank(clients[1]);
        zkpot.commit(second, 1, cm);
        toProofPhase(second);
        Submission memory replay = submission(A, salt);
        vm.prank(clients[1]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTDuplicateModel.selector, second, 1, fixtures[A].weightsHash));
        zkpot.submitProof(second, 1, replay);
    }

    function test_submitProof_aLazyClientCannotHandBackAGlobalModel() public {
        // The aggregator publishes model C as round 1's global model.
        uint256 id = startedTask();
        uint256 c = fixtureNamed("c");
        playRound(id, models(A));
        publish(id, fixtures[c].weightsHash, "bafkreiglobal");
        assertGt(zkpot.globalModelPublishedAt(vkaDigest, fixtures[c].weightsHash), 0);
        // In round 2 client 1 proves the global model unchanged and submits it.
        commitTo(id, clients[1], c);
        toProofPhase(id);
        Submission memory lazy = submissionFor(id, clients[1], c);
        vm.prank(clients[1]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTStaleModel.selector, id, 2, fixtures[c].weightsHash));
        zkpot.submitProof(id, 2, lazy);
    }

    function test_submitProof_theInitialModelIsNoContribution() public {
        TaskConfig memory cfg = defaultConfig();
        cfg.initialModelHash = fixtures[B].weightsHash;
        uint256 id = createTask(cfg, POOL);
        register(id, clients[0]);
        vm.roll(zkpot.getTask(id).startBlock);
        commitTo(id, clients[0], B);
        toProofPhase(id);
        Submission memory lazy = submissionFor(id, clients[0], B);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTStaleModel.selector, id, 1, fixtures[B].weightsHash));
        zkpot.submitProof(id, 1, lazy);
    }

    function test_submitProof_onceAndOneModelPerRound() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        commitTo(id, clients[1], A);
        toProofPhase(id);
        submitFor(id, clients[0], A);
        Submission memory again = submissionFor(id, clients[0], A);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTAlreadySubmitted.selector, id, 1, clients[0]));
        zkpot.submitProof(id, 1, again);

        Submission memory copy = submissionFor(id, clients[1], A);
        vm.prank(clients[1]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTDuplicateModel.selector, id, 1, fixtures[A].weightsHash));
        zkpot.submitProof(id, 1, copy);
    }

    // ----------------------------------------------------------------- nothing after the commit end voids a proof

    function test_submitProof_aFrontRunCreateTaskCannotMakeAProofStale() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        // The attacker saw A's hash in the victim's pending submission and gets a task
        // naming it as the initial model on the same circuit mined first, for no ETH.
        TaskConfig memory cfg = defaultConfig();
        cfg.initialModelHash = fixtures[A].weightsHash;
        cfg.aggregatorBond = 0;
        cfg.aggregatorPenalty = 0;
        address attacker = makeAddr("attacker");
        vm.prank(attacker);
        zkpot.createTask(cfg);
        assertEq(zkpot.globalModelPublishedAt(vkaDigest, fixtures[A].weightsHash), block.number);

        submitFor(id, clients[0], A);
        assertTrue(zkpot.getContribution(id, 1, clients[0]).accepted);
    }

    function test_submitProof_anotherTasksAggregatorCannotMakeAProofStale() public {
        uint256 id = createTask();
        // A second task on the circuit, aggregated by the attacker, one round ahead.
        address attacker = makeAddr("attacker");
        TaskConfig memory cfg = defaultConfig();
        cfg.aggregator = attacker;
        cfg.registrationBlocks = 1;
        cfg.commitBlocks = 1;
        cfg.proofBlocks = 2;
        cfg.aggregateBlocks = 20;
        uint256 other = createTask(cfg, POOL);
        register(other, clients[3]);
        register(id, clients[0]);
        vm.roll(zkpot.getTask(other).startBlock);
        commitTo(other, clients[3], fixtureNamed("b_twin1"));
        toProofPhase(other);
        submitFor(other, clients[3], fixtureNamed("b_twin1"));

        vm.roll(zkpot.getTask(id).startBlock);
        commitTo(id, clients[0], A);
        toProofPhase(id);
        assertEq(uint8(zkpot.phase(other)), uint8(Phase.Aggregate));
        vm.prank(attacker); // publishes the victim's hash, revealed after the commit end
        zkpot.publishGlobalModel(other, 1, unproven(fixtures[A].weightsHash, "bafkreistolen"));
        submitFor(id, clients[0], A);
        assertTrue(zkpot.getContribution(id, 1, clients[0]).accepted);
    }

    function test_submitProof_aReplayInAnotherTaskAfterTheCommitEndCannotVoidTheProof() public {
        uint256 id = createTask();
        register(id, clients[0]);
        TaskConfig memory cfg = defaultConfig();
        cfg.registrationBlocks = REG_BLOCKS + 1; // its proof phase overlaps the victim's
        uint256 other = createTask(cfg, POOL);
        register(other, clients[1]);
        vm.roll(zkpot.getTask(id).startBlock);
        commitTo(id, clients[0], A);
        vm.roll(zkpot.getTask(other).startBlock);
        // The attacker knows A's hash (the victim's submission waited in the mempool).
        bytes32 salt = keccak256("attacker");
        bytes32 cm = zkpot.commitmentOf(clients[1], other, 1, fixtures[A].weightsHash, salt);
        vm.prank(clients[1]);
        zkpot.commit(other, 1, cm);
        toProofPhase(other);
        Submission memory replay = submission(A, salt);
        vm.prank(clients[1]);
        zkpot.submitProof(other, 1, replay); // mined before the victim's
        toProofPhase(id); // the victim's batch is revealed too (its reveal window is still on)
        submitFor(id, clients[0], A);
        assertTrue(zkpot.getContribution(id, 1, clients[0]).accepted);
    }

    function test_submitProof_aModelPublishedBeforeTheCommitEndIsStaleWhoeverPublishedIt() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        TaskConfig memory cfg = defaultConfig();
        cfg.initialModelHash = fixtures[A].weightsHash; // public before the commit phase closed
        createTask(cfg, POOL);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTStaleModel.selector, id, 1, fixtures[A].weightsHash));
        zkpot.submitProof(id, 1, s);
    }

    // ----------------------------------------------------------------- proof length

    function test_submitProof_rejectsAProofOfAnotherLength() public {
        uint256 id = startedTask();
        uint256 length = fixtures[A].proof.length;
        assertEq(zkpot.getTask(id).proofLength, length);
        assertEq(zkpot.circuitProofLength(vkaDigest), length);
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Submission memory s = submissionFor(id, clients[0], A);
        s.proof = bytes.concat(s.proof, bytes32(0));
        // The verifier alone takes the padded proof: the length check is ours.
        (bool ok, bytes memory ret) = verifier.staticcall(
            abi.encodeWithSignature("verifyProof(bytes,uint256[],bytes32[])", s.proof, s.instances, vka)
        );
        assertTrue(ok && abi.decode(ret, (uint256)) == 1);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongProofLength.selector, id, length, length + 32));
        zkpot.submitProof(id, 1, s);
    }

    // ----------------------------------------------------------------- the revealed batch

    function test_submitProof_notBeforeTheBatchIsRevealed() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        Submission memory s = submissionFor(id, clients[0], A);
        uint256[2] memory blocks = [uint256(r.commitEnd) + 1, r.revealEnd];
        for (uint256 k = 0; k < blocks.length; k++) {
            vm.roll(blocks[k]); // in the proof window, the batch still secret
            vm.prank(clients[0]);
            vm.expectRevert(abi.encodeWithSelector(ZKPoTBatchNotRevealed.selector, id, 1));
            zkpot.submitProof(id, 1, s);
        }
        revealBatch(id);
        vm.prank(clients[0]);
        zkpot.submitProof(id, 1, s);
        assertTrue(zkpot.getContribution(id, 1, clients[0]).accepted);
    }

    function test_submitProof_rejectsAProofOnAnotherRoundsBatch() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id); // round 1's batch (batch 0) revealed
        // Model a proven on round 2's batch: a's weights hash, so it opens the commitment.
        Submission memory s = submissionFor(id, clients[0], aBatch2);
        assertEq(keccak256(slice(s.proof, 0, 64)), fixtures[A].weightsHash);
        // The verifier alone accepts it: the batch check is ours.
        (bool ok, bytes memory ret) = verifier.staticcall(
            abi.encodeWithSignature("verifyProof(bytes,uint256[],bytes32[])", s.proof, s.instances, vka)
        );
        assertTrue(ok && abi.decode(ret, (uint256)) == 1);
        vm.prank(clients[0]);
        vm.expectRevert(
            abi.encodeWithSelector(ZKPoTWrongBatch.selector, id, 1, keccak256(batches[0]), keccak256(batches[1]))
        );
        zkpot.submitProof(id, 1, s);
        assertFalse(zkpot.getContribution(id, 1, clients[0]).submitted);
        // The proof on the round's batch is taken.
        submitFor(id, clients[0], A);
        assertEq(zkpot.getContribution(id, 1, clients[0]).correct, fixtures[A].correct);
    }

    function test_submitProof_aRoundOnAnotherBatchTakesOnlyProofsOnIt() public {
        TaskConfig memory cfg = defaultConfig();
        cfg.batchCommitments[0] = sealedBatch(1, 1); // round 1 evaluates on batch 1
        uint256 id = createTask(cfg, POOL);
        register(id, clients[0]);
        vm.roll(zkpot.getTask(id).startBlock);
        commitTo(id, clients[0], A); // a's weights, whichever batch they are proven on
        vm.roll(zkpot.getRound(id, 1).commitEnd + 1);
        vm.prank(publisher);
        vm.expectRevert(
            abi.encodeWithSelector(ZKPoTBatchMismatch.selector, id, 1, sealedBatch(1, 1), sealedBatch(0, 1))
        );
        zkpot.revealBatch(id, 1, batches[0], batchSalt(1), BATCH_CID);
        revealBatch(id, 1);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        assertEq(r.batchDigest, keccak256(batches[1]));
        assertEq(r.batchLength, batches[1].length);

        Submission memory onBatch0 = submissionFor(id, clients[0], A);
        vm.prank(clients[0]);
        vm.expectRevert(
            abi.encodeWithSelector(ZKPoTWrongBatch.selector, id, 1, keccak256(batches[1]), keccak256(batches[0]))
        );
        zkpot.submitProof(id, 1, onBatch0);

        submitFor(id, clients[0], aBatch2);
        ZKPoT.Contribution memory c = zkpot.getContribution(id, 1, clients[0]);
        assertTrue(c.submitted);
        assertEq(c.weightsHash, fixtures[A].weightsHash);
        assertEq(c.correct, fixtures[aBatch2].correct);
        assertEq(c.accepted, fixtures[aBatch2].correct >= minCorrect);
    }

    // ================================================================= closeRound

    function test_closeRound_electsTheHighestCountAndFixesRewards() public {
        uint256 id = startedTask();
        playRound(id, models(B, A)); // b counts fewer than a: client 1 leads
        vm.expectEmit(address(zkpot));
        uint256 reward = POOL / ROUNDS;
        uint256 bonus = reward * LEADER_BPS / 10_000;
        uint256 each = (reward - bonus) / 2;
        emit RoundClosed(id, 1, clients[1], fixtures[A].correct, 2, bonus, each, zkpot.getRound(id, 1).tieBreakSeed);
        vm.prank(makeAddr("anyone"));
        zkpot.closeRound(id, new address[](0));
        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(t.rewardPool, POOL - bonus - 2 * each);
        assertEq(t.unclaimedRewards, bonus + 2 * each);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Aggregate));
    }

    function test_closeRound_tieGoesToTheLowerKeyUnderTheCommitEndBlockHash() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        commitTo(id, clients[1], A_TWIN);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.roll(r.commitEnd + 1);
        vm.setBlockhash(r.commitEnd, keccak256("the commit-end block"));
        revealBatch(id);
        bytes32 seed = keccak256(abi.encode(keccak256("the commit-end block"), id, uint256(1)));
        // Whichever of the two has the higher key submits first: order decides nothing.
        bool zeroWins = tieKey(seed, clients[0]) < tieKey(seed, clients[1]);
        (address winner, uint256 wf, address loser, uint256 lf) =
            zeroWins ? (clients[0], A, clients[1], A_TWIN) : (clients[1], A_TWIN, clients[0], A);
        submitFor(id, loser, lf);
        submitFor(id, winner, wf);
        assertEq(zkpot.getRound(id, 1).tieBreakSeed, seed);
        toAggregatePhase(id);
        vm.expectEmit(address(zkpot));
        uint256 reward = POOL / ROUNDS;
        uint256 bonus = reward * LEADER_BPS / 10_000;
        emit RoundClosed(id, 1, winner, fixtures[A].correct, 2, bonus, (reward - bonus) / 2, seed);
        zkpot.closeRound(id, new address[](0));
        assertEq(zkpot.getRound(id, 1).leader, winner);
    }

    function test_revealBatch_withoutTheCommitEndHashTheSeedComesFromTheRevealsBlock() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.roll(r.commitEnd + 1);
        vm.setBlockhash(r.commitEnd, bytes32(0)); // out of the 256-block window
        vm.setBlockhash(block.number - 1, keccak256("the latest block"));
        revealBatch(id);
        assertEq(
            zkpot.getRound(id, 1).tieBreakSeed, keccak256(abi.encode(keccak256("the latest block"), id, uint256(1)))
        );
    }

    function test_closeRound_onlyAfterTheProofPhaseAndOnce() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTRoundNotOver.selector, id, 1, block.number, r.proofEnd));
        zkpot.closeRound(id, new address[](0));
        submitFor(id, clients[0], A);
        toAggregatePhase(id);
        zkpot.closeRound(id, new address[](0));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongRoundStatus.selector, id, 1, RoundStatus.Closed));
        zkpot.closeRound(id, new address[](0));
    }

    function test_closeRound_withoutAcceptedContributionKeepsTheModelAndMovesOn() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A); // committed, never proves
        toAggregatePhase(id);
        bytes32 head = zkpot.getTask(id).headRecord;
        zkpot.closeRound(id, new address[](0));

        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(t.currentRound, 2);
        assertEq(t.rewardPool, POOL); // nothing paid: the share rolls over
        assertEq(t.globalModelHash, defaultConfig().initialModelHash);
        RoundRecord memory rec = RoundRecord({
            taskId: id,
            round: 1,
            prevRecordHash: head,
            leader: address(0),
            leaderCorrect: 0,
            acceptedCount: 0,
            contributionsRoot: bytes32(0),
            globalModelHash: t.globalModelHash,
            globalModelCid: t.globalModelCid,
            aggregator: address(0),
            aggregationProofHash: bytes32(0)
        });
        assertEq(zkpot.recordHash(id, 1), keccak256(abi.encode(rec)));
        assertEq(uint8(zkpot.getRound(id, 1).status), uint8(RoundStatus.Finalized));
        assertEq(zkpot.getRound(id, 2).openBlock, block.number);
    }

    // ----------------------------------------------------------------- a missed reveal

    function test_closeRound_aMissedRevealCompensatesTheCommittedClients() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        commitTo(id, clients[1], B);
        commitTo(id, clients[2], A_TWIN);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.roll(r.revealEnd); // the publisher may still reveal
        vm.expectRevert(abi.encodeWithSelector(ZKPoTRoundNotOver.selector, id, 1, r.revealEnd, r.revealEnd));
        zkpot.closeRound(id, new address[](0));

        vm.roll(r.revealEnd + 1); // missed: nobody can prove, so the round is over now
        Submission memory s = submissionFor(id, clients[0], A);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTBatchNotRevealed.selector, id, 1));
        zkpot.submitProof(id, 1, s);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoReward.selector, id, 1, clients[0]));
        zkpot.claimReward(id, 1); // nothing before the close
        bytes32 head = zkpot.getTask(id).headRecord;
        uint256 each = AGG_PENALTY / 3;
        uint256 start = block.number;
        vm.expectEmit(address(zkpot));
        emit RevealMissed(id, 1, 3 * each, each);
        vm.expectEmit(address(zkpot));
        emit RoundOpened(
            id,
            2,
            defaultConfig().initialModelHash,
            start,
            start + COMMIT_BLOCKS - 1,
            start + COMMIT_BLOCKS - 1 + REVEAL_BLOCKS,
            start + COMMIT_BLOCKS - 1 + REVEAL_BLOCKS + PROOF_BLOCKS,
            start + COMMIT_BLOCKS - 1 + REVEAL_BLOCKS + PROOF_BLOCKS, // no dispute window
            start + COMMIT_BLOCKS - 1 + REVEAL_BLOCKS + PROOF_BLOCKS, // nor answer window
            start + COMMIT_BLOCKS - 1 + REVEAL_BLOCKS + PROOF_BLOCKS + AGG_BLOCKS
        );
        vm.prank(makeAddr("anyone"));
        zkpot.closeRound(id, new address[](0));

        // The penalty left the bond (its division dust stays) for the committed clients.
        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(t.aggregatorBond, BOND - 3 * each);
        assertEq(AGG_PENALTY - 3 * each, 1);
        assertEq(t.unclaimedRewards, 3 * each);
        assertEq(t.rewardPool, POOL); // the round's share rolls over
        // Finalised with the previous model, and the next round opens on it.
        r = zkpot.getRound(id, 1);
        assertEq(uint8(r.status), uint8(RoundStatus.Finalized));
        assertEq(r.contributorReward, each);
        assertEq(r.committedCount, 3);
        assertEq(r.acceptedCount + r.provedCount, 0);
        assertEq(r.batchDigest, bytes32(0));
        assertEq(t.currentRound, 2);
        assertEq(t.globalModelHash, defaultConfig().initialModelHash);
        assertEq(zkpot.getRound(id, 2).openBlock, start);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Commit));
        RoundRecord memory rec = RoundRecord({
            taskId: id,
            round: 1,
            prevRecordHash: head,
            leader: address(0),
            leaderCorrect: 0,
            acceptedCount: 0,
            contributionsRoot: bytes32(0),
            globalModelHash: t.globalModelHash,
            globalModelCid: t.globalModelCid,
            aggregator: address(0),
            aggregationProofHash: bytes32(0)
        });
        assertEq(zkpot.recordHash(id, 1), keccak256(abi.encode(rec)));

        for (uint256 i = 0; i < 3; i++) {
            // A proof that could not be made is no fault.
            vm.expectRevert(abi.encodeWithSelector(ZKPoTNoFault.selector, id, clients[i]));
            zkpot.slashMissedProof(id, clients[i]);
            assertEq(zkpot.getMember(id, clients[i]).stake, STAKE);
            assertFalse(zkpot.getMember(id, clients[i]).bondSettled);
            // Each committed client claims its share, once.
            vm.prank(clients[i]);
            vm.expectEmit(address(zkpot));
            emit RewardClaimed(id, 1, clients[i], each);
            zkpot.claimReward(id, 1);
            assertEq(zkpot.creditOf(clients[i]), each);
            vm.prank(clients[i]);
            vm.expectRevert(abi.encodeWithSelector(ZKPoTAlreadyClaimed.selector, id, 1, clients[i]));
            zkpot.claimReward(id, 1);
        }
        vm.prank(clients[3]); // did not commit: nothing to claim
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoReward.selector, id, 1, clients[3]));
        zkpot.claimReward(id, 1);
        assertEq(zkpot.getTask(id).unclaimedRewards, 0);

        // Its commitment no longer pending, client 0 commits in round 2 with its whole stake.
        commitTo(id, clients[0], fixtureFor(0, 2));
        assertEq(zkpot.getMember(id, clients[0]).pendingRound, 2);
        assertEq(zkpot.getMember(id, clients[0]).stake, STAKE);
    }

    function test_closeRound_aMissedRevealWithoutCommitmentsCostsNothing() public {
        uint256 id = startedTask();
        pastRevealWindow(id);
        vm.expectEmit(address(zkpot));
        emit RevealMissed(id, 1, 0, 0);
        zkpot.closeRound(id, new address[](0));
        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(t.aggregatorBond, BOND);
        assertEq(t.unclaimedRewards, 0);
        assertEq(t.currentRound, 2);
    }

    function test_closeRound_aMissedRevealTakesNoMoreThanTheBondLeft() public {
        TaskConfig memory cfg = defaultConfig();
        cfg.aggregatorBond = 0.5 ether;
        cfg.aggregatorPenalty = 0.3 ether;
        uint256 id = createTask(cfg, POOL);
        register(id, clients[0]);
        register(id, clients[1]);
        vm.roll(zkpot.getTask(id).startBlock);
        commitTo(id, clients[0], A);
        commitTo(id, clients[1], B);
        pastRevealWindow(id);
        zkpot.closeRound(id, new address[](0)); // 0.15 ether each
        commitTo(id, clients[0], fixtureFor(0, 2));
        commitTo(id, clients[1], fixtureFor(1, 2));
        pastRevealWindow(id);
        vm.expectEmit(address(zkpot));
        emit RevealMissed(id, 2, 0.2 ether, 0.1 ether); // what is left: 0.2 ether
        zkpot.closeRound(id, new address[](0));
        assertEq(zkpot.getTask(id).aggregatorBond, 0);
        assertEq(zkpot.getTask(id).unclaimedRewards, 0.5 ether);
        vm.prank(clients[1]);
        zkpot.claimReward(id, 2);
        assertEq(zkpot.creditOf(clients[1]), 0.1 ether);
    }

    // ================================================================= publishGlobalModel

    function test_publishGlobalModel_appendsTheRecordAndOpensTheNextRound() public {
        uint256 id = startedTask();
        playRound(id, models(A, B));
        bytes32 head = zkpot.getTask(id).headRecord;
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        publish(id, keccak256("model 1"), "bafkreimodel1");

        RoundRecord memory rec = RoundRecord({
            taskId: id,
            round: 1,
            prevRecordHash: head,
            leader: clients[0],
            leaderCorrect: uint32(fixtures[A].correct),
            acceptedCount: 2,
            contributionsRoot: r.contributionsRoot,
            globalModelHash: keccak256("model 1"),
            globalModelCid: "bafkreimodel1",
            aggregator: aggregator,
            // the harness's aggregate has no proof: the record holds the hash of none
            aggregationProofHash: keccak256("")
        });
        assertEq(zkpot.recordHash(id, 1), keccak256(abi.encode(rec)));
        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(t.headRecord, zkpot.recordHash(id, 1));
        assertEq(t.currentRound, 2);
        assertEq(t.globalModelCid, "bafkreimodel1");
        assertEq(uint8(zkpot.getRound(id, 1).status), uint8(RoundStatus.Finalized));
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Commit));
    }

    function test_publishGlobalModel_rejections() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);

        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotAggregator.selector, id, clients[0]));
        zkpot.publishGlobalModel(id, 1, unproven(keccak256("m"), "cid"));

        vm.startPrank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongRound.selector, id, 2, 1));
        zkpot.publishGlobalModel(id, 2, unproven(keccak256("m"), "cid"));
        vm.expectRevert(
            abi.encodeWithSelector(
                ZKPoTNotInAggregatePhase.selector, id, 1, block.number, r.proofEnd + 1, r.aggregateEnd
            )
        );
        zkpot.publishGlobalModel(id, 1, unproven(keccak256("m"), "cid"));
        vm.stopPrank();

        submitFor(id, clients[0], A);
        toAggregatePhase(id);
        vm.startPrank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTEmptyModel.selector));
        zkpot.publishGlobalModel(id, 1, unproven(bytes32(0), "cid"));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTEmptyModel.selector));
        zkpot.publishGlobalModel(id, 1, unproven(keccak256("m"), ""));
        vm.roll(r.aggregateEnd + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                ZKPoTNotInAggregatePhase.selector, id, 1, r.aggregateEnd + 1, r.proofEnd + 1, r.aggregateEnd
            )
        );
        zkpot.publishGlobalModel(id, 1, unproven(keccak256("m"), "cid"));
        vm.stopPrank();
    }

    function test_publishGlobalModel_nothingToAggregate() public {
        uint256 id = startedTask();
        toAggregatePhase(id);
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNothingToAggregate.selector, id, 1));
        zkpot.publishGlobalModel(id, 1, unproven(keccak256("m"), "cid"));
    }

    function test_lastRoundCompletesTheTaskAndRefundsThePublisher() public {
        uint256 id = startedTask();
        for (uint256 round = 1; round <= ROUNDS; round++) {
            playRound(id, models(fixtureFor(0, round), fixtureFor(1, round)));
            publish(id, keccak256(abi.encode(round)), "bafkreimodel");
        }
        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(uint8(t.status), uint8(TaskStatus.Completed));
        assertEq(t.rewardPool, 0);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Completed));
        // The last round pays out the whole remaining pool (but division dust).
        assertEq(zkpot.creditOf(publisher), BOND + (POOL - t.unclaimedRewards));
        assertLt(POOL - t.unclaimedRewards, 10);

        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTTaskNotActive.selector, id, TaskStatus.Completed));
        zkpot.commit(id, ROUNDS + 1, keccak256("c"));
    }

    // ================================================================= finalizeWithoutAggregator

    function test_finalizeWithoutAggregator_slashesTheBondAndKeepsTheModel() public {
        uint256 id = startedTask();
        playRound(id, models(A, B, A_TWIN));
        zkpot.closeRound(id, new address[](0));
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.expectRevert(
            abi.encodeWithSelector(ZKPoTAggregationNotOverdue.selector, id, 1, block.number, r.aggregateEnd)
        );
        zkpot.finalizeWithoutAggregator(id);

        pastAggregateDeadline(id);
        ZKPoT.Task memory before = zkpot.getTask(id);
        uint256 each = AGG_PENALTY / 3;
        // The event carries each contribution's final reward, as claimReward pays it.
        vm.expectEmit(address(zkpot));
        emit AggregatorSlashed(id, 1, aggregator, AGG_PENALTY, r.contributorReward + each);
        vm.prank(makeAddr("anyone"));
        zkpot.finalizeWithoutAggregator(id);

        // The three contributions whose work went unused share the penalty.
        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(t.aggregatorBond, BOND - AGG_PENALTY);
        assertEq(zkpot.getRound(id, 1).contributorReward, r.contributorReward + each);
        assertEq(t.unclaimedRewards, before.unclaimedRewards + 3 * each);
        assertEq(t.rewardPool, before.rewardPool + AGG_PENALTY - 3 * each);
        assertEq(t.globalModelHash, defaultConfig().initialModelHash);
        assertEq(t.currentRound, 2);
    }

    function test_finalizeWithoutAggregator_needsAClosedRound() public {
        uint256 id = startedTask();
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongRoundStatus.selector, id, 1, RoundStatus.Open));
        zkpot.finalizeWithoutAggregator(id);
    }

    // ================================================================= slashing

    function test_slashMissedProof_afterTheProofPhase() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoFault.selector, id, clients[0]));
        zkpot.slashMissedProof(id, clients[0]); // may still prove
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoFault.selector, id, clients[1]));
        zkpot.slashMissedProof(id, clients[1]); // never committed

        toAggregatePhase(id);
        vm.expectEmit(address(zkpot));
        emit ClientSlashed(id, 1, clients[0], PENALTY);
        vm.prank(clients[3]);
        zkpot.slashMissedProof(id, clients[0]);
        assertEq(zkpot.getMember(id, clients[0]).stake, STAKE - PENALTY);
        assertEq(zkpot.getTask(id).rewardPool, POOL + PENALTY);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoFault.selector, id, clients[0]));
        zkpot.slashMissedProof(id, clients[0]); // once
    }

    function test_aMissedProofIsPunishedAtTheNextCommitAndBlocksIt() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toAggregatePhase(id);
        zkpot.closeRound(id, new address[](0)); // nothing accepted: round 2 opens
        (uint256 round,) = roundOf(id);
        bytes32 cm = keccak256("c");
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotEligible.selector, id, clients[0], STAKE - PENALTY));
        zkpot.commit(id, round, cm);
    }

    function test_aProvenCommitmentIsNeverSlashed() public {
        uint256 id = startedTask();
        playRound(id, models(A));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoFault.selector, id, clients[0]));
        zkpot.slashMissedProof(id, clients[0]);
    }

    // ================================================================= rewards

    function test_claimReward_leaderAndContributorShares() public {
        uint256 id = startedTask();
        playRound(id, models(A, B));
        publish(id, keccak256("m1"), "cid1");
        ZKPoT.Round memory r = zkpot.getRound(id, 1);

        vm.prank(clients[0]);
        zkpot.claimReward(id, 1);
        vm.prank(clients[1]);
        zkpot.claimReward(id, 1);
        assertEq(zkpot.creditOf(clients[0]), r.contributorReward + r.leaderBonus);
        assertEq(zkpot.creditOf(clients[1]), r.contributorReward);
        assertEq(zkpot.getTask(id).unclaimedRewards, 0);

        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTAlreadyClaimed.selector, id, 1, clients[0]));
        zkpot.claimReward(id, 1);
        vm.prank(clients[2]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoReward.selector, id, 1, clients[2]));
        zkpot.claimReward(id, 1);
    }

    function test_claimReward_notBeforeTheRoundIsFinalised() public {
        uint256 id = startedTask();
        playRound(id, models(A));
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoReward.selector, id, 1, clients[0]));
        zkpot.claimReward(id, 1);
        zkpot.closeRound(id, new address[](0)); // closed, not finalised: the aggregator's penalty may still come
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoReward.selector, id, 1, clients[0]));
        zkpot.claimReward(id, 1);
    }

    // ================================================================= stakes and withdrawals

    function test_releaseStake_onlyAfterTheTaskAndAfterPunishment() public {
        TaskConfig memory cfg = defaultConfig();
        cfg.numRounds = 1;
        cfg.batchCommitments = sealedBatches(1);
        uint256 id = createTask(cfg, POOL);
        register(id, clients[0]);
        register(id, clients[1]);
        vm.roll(zkpot.getTask(id).startBlock);

        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTStakeLocked.selector, id, TaskStatus.Active));
        zkpot.releaseStake(id);

        commitTo(id, clients[0], A);
        commitTo(id, clients[1], B); // never proves
        toProofPhase(id);
        submitFor(id, clients[0], A);
        toAggregatePhase(id);
        publish(id, keccak256("final"), "bafkreifinal");
        uint256 publisherCredit = zkpot.creditOf(publisher);

        vm.prank(clients[1]);
        zkpot.releaseStake(id);
        assertEq(zkpot.creditOf(clients[1]), STAKE - PENALTY);
        assertEq(zkpot.creditOf(publisher), publisherCredit + PENALTY); // the task has ended

        vm.prank(clients[1]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoStake.selector, id, clients[1]));
        zkpot.releaseStake(id);
    }

    function test_releaseStake_aClientThatNeverProvedForfeitsItsBond() public {
        TaskConfig memory cfg = defaultConfig();
        cfg.numRounds = 1;
        cfg.batchCommitments = sealedBatches(1);
        uint256 id = createTask(cfg, POOL);
        register(id, clients[0]);
        register(id, clients[1]); // a sybil filling a slot: never commits, never proves
        vm.roll(zkpot.getTask(id).startBlock);
        playRound(id, models(A));
        publish(id, keccak256("final"), "bafkreifinal");
        uint256 publisherCredit = zkpot.creditOf(publisher);

        vm.prank(clients[1]);
        vm.expectEmit(address(zkpot));
        emit StakeForfeited(id, clients[1], PENALTY);
        zkpot.releaseStake(id);
        assertEq(zkpot.creditOf(clients[1]), STAKE - PENALTY);
        assertEq(zkpot.creditOf(publisher), publisherCredit + PENALTY);
        vm.prank(clients[0]); // proved: the whole stake back
        zkpot.releaseStake(id);
        assertEq(zkpot.creditOf(clients[0]), STAKE);
    }

    // ================================================================= leave

    function test_leave_betweenRoundsReturnsTheStakeOfAClientThatProved() public {
        uint256 id = startedTask();
        playRound(id, models(A));
        publish(id, keccak256("m1"), "cid1");
        vm.prank(clients[0]);
        vm.expectEmit(address(zkpot));
        emit ClientLeft(id, clients[0]);
        zkpot.leave(id);
        assertEq(zkpot.creditOf(clients[0]), STAKE);
        assertFalse(zkpot.getMember(id, clients[0]).registered);
        // Its round-1 reward stays claimable; it cannot commit any more.
        vm.prank(clients[0]);
        zkpot.claimReward(id, 1);
        bytes32 cm = zkpot.commitmentOf(clients[0], id, 2, fixtures[B].weightsHash, bytes32(0));
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotEligible.selector, id, clients[0], 0));
        zkpot.commit(id, 2, cm);
    }

    function test_leave_notWithAProofPending() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTProofPending.selector, id, clients[0], 1));
        zkpot.leave(id);
        // After the proof phase the missed proof is slashed first, then it may leave.
        toAggregatePhase(id);
        vm.prank(clients[0]);
        zkpot.leave(id);
        assertEq(zkpot.creditOf(clients[0]), STAKE - PENALTY);
    }

    function test_leave_afterTheStartAClientThatNeverProvedForfeitsItsBond() public {
        uint256 id = startedTask();
        uint256 pool = zkpot.getTask(id).rewardPool;
        vm.prank(clients[2]);
        vm.expectEmit(address(zkpot));
        emit StakeForfeited(id, clients[2], PENALTY);
        zkpot.leave(id);
        assertEq(zkpot.creditOf(clients[2]), STAKE - PENALTY);
        assertEq(zkpot.getTask(id).rewardPool, pool + PENALTY); // the task still runs
        assertEq(zkpot.getTask(id).clientCount, clients.length - 1);
    }

    function test_leave_aCommitmentIsNoLongerPendingOnceTheRevealIsMissed() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.roll(r.revealEnd);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTProofPending.selector, id, clients[0], 1));
        zkpot.leave(id);
        vm.roll(r.revealEnd + 1); // the round is still open, but nobody can prove in it
        vm.recordLogs();
        vm.prank(clients[0]);
        zkpot.leave(id);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; i++) {
            assertTrue(logs[i].topics[0] != ClientSlashed.selector, "slashed for a proof it could not make");
        }
        // Not slashed, and its commitment settled its registration bond: a publisher
        // that withholds reveals collects no stake.
        assertEq(zkpot.creditOf(clients[0]), STAKE);
        assertEq(zkpot.getMember(id, clients[0]).pendingRound, 0);
        assertTrue(zkpot.getMember(id, clients[0]).bondSettled);
    }

    function test_leave_beforeTheStartFreesTheSlot() public {
        TaskConfig memory cfg = defaultConfig();
        cfg.maxClients = 1;
        uint256 id = createTask(cfg, POOL);
        register(id, clients[0]);
        vm.prank(clients[1]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTTaskFull.selector, id, 1));
        zkpot.register{value: STAKE}(id);
        vm.prank(clients[0]);
        zkpot.leave(id);
        assertEq(zkpot.creditOf(clients[0]), STAKE); // nothing forfeited before the start
        register(id, clients[1]);
        assertEq(zkpot.getTask(id).clientCount, 1);
    }

    function test_leave_onlyARegisteredClientOfARunningTask() public {
        uint256 id = startedTask();
        address stranger = makeAddr("stranger");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotRegistered.selector, id, stranger));
        zkpot.leave(id);
        vm.prank(clients[0]);
        zkpot.leave(id);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotRegistered.selector, id, clients[0]));
        zkpot.leave(id);
    }

    function test_withdraw_paysTheCreditOnce() public {
        uint256 id = createTask();
        vm.prank(publisher);
        zkpot.cancelTask(id);
        uint256 before = publisher.balance;
        vm.prank(publisher);
        vm.expectEmit(address(zkpot));
        emit Withdrawn(publisher, POOL + BOND);
        zkpot.withdraw();
        assertEq(publisher.balance, before + POOL + BOND);
        assertEq(address(zkpot).balance, 0);
        vm.prank(publisher);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNothingToWithdraw.selector, publisher));
        zkpot.withdraw();
    }

    function test_withdraw_aFailedTransferKeepsTheCredit() public {
        uint256 id = createTask();
        RejectsEther client = new RejectsEther();
        client.register{value: STAKE}(zkpot, id);
        vm.prank(publisher);
        zkpot.cancelTask(id);
        client.release(zkpot, id);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTTransferFailed.selector, address(client), STAKE));
        client.withdrawFrom(zkpot);
        assertEq(zkpot.creditOf(address(client)), STAKE);
    }

    function test_withdraw_reentrancyFindsTheCreditSpent() public {
        uint256 id = createTask();
        Reenterer attacker = new Reenterer(zkpot);
        register(id, clients[0]);
        attacker.register{value: STAKE}(id);
        vm.prank(publisher);
        zkpot.cancelTask(id);
        attacker.release(id);
        uint256 balance = address(zkpot).balance;
        attacker.attack();
        assertEq(attacker.reentries(), 1);
        assertEq(attacker.reentryError(), abi.encodeWithSelector(ZKPoTNothingToWithdraw.selector, address(attacker)));
        assertEq(address(attacker).balance, STAKE);
        assertEq(address(zkpot).balance, balance - STAKE);
        assertEq(zkpot.getMember(id, clients[0]).stake, STAKE); // others' funds untouched
    }

    // ================================================================= phases

    function test_phase_followsTheSchedule() public {
        uint256 id = createTask();
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Registration));
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.roll(r.openBlock);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Commit));
        vm.roll(r.commitEnd);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Commit));
        vm.roll(r.commitEnd + 1);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Reveal));
        vm.roll(r.revealEnd);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Reveal));
        revealBatch(id); // in the window's last block: proofs are taken from now on
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Prove));
        vm.roll(r.proofEnd);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Prove));
        vm.roll(r.proofEnd + 1);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Aggregate));
        vm.roll(r.aggregateEnd);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Aggregate));
        vm.roll(r.aggregateEnd + 1);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.AggregationOverdue));
    }

    function test_phase_aRevealIsDueThenMissedUntilTheRoundIsClosed() public {
        uint256 id = startedTask();
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        vm.roll(r.commitEnd + 1);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Reveal));
        vm.roll(r.revealEnd + 1);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.RevealMissed));
        vm.roll(r.proofEnd + 1); // nobody could prove: no proof or aggregate phase follows
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.RevealMissed));
        vm.roll(r.aggregateEnd + 1);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.RevealMissed));
        zkpot.closeRound(id, new address[](0));
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Commit)); // round 2
    }
}
