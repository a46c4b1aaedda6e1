// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {ZKPoT} from "../../contracts/ZKPoT.sol";
import {CircuitRegistry} from "../../contracts/verifier/CircuitRegistry.sol";
import {ZKPoTBase} from "./ZKPoTBase.sol";

/// @notice Optimistic verification with real proofs of the tiny circuit: claims,
///         disputes with and without the proof's bytes, the close over what stands,
///         and stake top-ups.
contract ZKPoTOptimisticTest is ZKPoTBase {
    uint32 internal constant DISPUTE_BLOCKS = 4;
    uint256 internal constant DISPUTE_BOND = 0.2 ether;

    address internal disputer = makeAddr("disputer");

    function setUp() public override {
        super.setUp();
        vm.deal(disputer, 10 ether);
    }

    function optimisticTask() internal returns (uint256 id) {
        TaskConfig memory c = defaultConfig();
        c.optimistic = true;
        c.disputeBlocks = DISPUTE_BLOCKS;
        c.disputeBond = DISPUTE_BOND;
        id = createTask(c, POOL);
        for (uint256 i = 0; i < clients.length; i++) {
            register(id, clients[i]);
        }
        vm.roll(zkpot.getTask(id).startBlock);
    }

    /// @dev The claim of `fixture`'s proof by `client` in the current round; `proof`
    ///      is the bytes whose hash it records (the fixture's, or forged ones).
    function claimOf(uint256 id, address client, uint256 fixture, bytes memory proof)
        internal
        view
        returns (Claim memory cl)
    {
        (uint256 round,) = roundOf(id);
        cl.weightsHash = fixtures[fixture].weightsHash;
        cl.proofHash = keccak256(proof);
        cl.claimedCorrect = fixtures[fixture].correct;
        cl.salt = saltOf(client, round);
        cl.sealedWeightsCid = "bafkreisealed";
        cl.proofCid = "bafkreiproof";
    }

    function claimFor(uint256 id, address client, uint256 fixture, bytes memory proof) internal {
        (uint256 round,) = roundOf(id);
        Claim memory cl = claimOf(id, client, fixture, proof);
        vm.prank(client);
        zkpot.submitClaim(id, round, cl);
    }

    /// @dev The fixture's proof with one byte flipped: not a valid proof.
    function forged(uint256 fixture) internal view returns (bytes memory p) {
        p = bytes.concat(fixtures[fixture].proof);
        p[300] = bytes1(uint8(p[300]) ^ 1);
    }

    function disputeWith(uint256 id, address client, bytes memory proof) internal {
        (uint256 round,) = roundOf(id);
        vm.prank(disputer);
        zkpot.dispute{value: DISPUTE_BOND}(id, round, client, proof);
    }

    function standing(address a) internal pure returns (address[] memory s) {
        s = new address[](1);
        s[0] = a;
    }

    function standing(address a, address b) internal pure returns (address[] memory s) {
        s = new address[](2);
        s[0] = a;
        s[1] = b;
    }

    /// @dev Clients 0 and 1 claim a (valid) and b (valid, a lower count).
    function twoClaims(uint256 id) internal {
        commitTo(id, clients[0], A);
        commitTo(id, clients[1], B);
        toProofPhase(id);
        claimFor(id, clients[0], A, fixtures[A].proof);
        claimFor(id, clients[1], B, fixtures[B].proof);
    }

    function pastDisputeWindow(uint256 id) internal {
        (, ZKPoT.Round memory r) = roundOf(id);
        vm.roll(r.disputeEnd + 1);
    }

    // ================================================================= claims

    function test_submitClaim_recordsWithoutVerifyingAndTheCloseElectsFromWhatStands() public {
        uint256 id = optimisticTask();
        commitTo(id, clients[0], A);
        commitTo(id, clients[1], B);
        toProofPhase(id);
        vm.expectEmit(address(zkpot));
        emit ContributionClaimed(
            id,
            1,
            clients[0],
            fixtures[A].weightsHash,
            fixtures[A].correct,
            true,
            "bafkreisealed",
            keccak256(fixtures[A].proof),
            "bafkreiproof"
        );
        claimFor(id, clients[0], A, fixtures[A].proof);
        claimFor(id, clients[1], B, fixtures[B].proof);
        ZKPoT.Contribution memory c = zkpot.getContribution(id, 1, clients[0]);
        assertTrue(c.submitted && c.accepted && !c.verified && !c.struck);
        assertEq(c.index, 1);
        assertEq(c.proofHash, keccak256(fixtures[A].proof));
        assertEq(zkpot.getRound(id, 1).leader, address(0)); // elected at close
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Prove));

        (, ZKPoT.Round memory r) = roundOf(id);
        vm.roll(r.proofEnd + 1);
        assertEq(uint8(zkpot.phase(id)), uint8(Phase.Dispute));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTRoundNotOver.selector, id, 1, block.number, r.disputeEnd));
        zkpot.closeRound(id, standing(clients[0], clients[1]));
        vm.roll(r.disputeEnd + 1);
        zkpot.closeRound(id, standing(clients[0], clients[1]));
        r = zkpot.getRound(id, 1);
        assertEq(r.leader, clients[0]);
        assertEq(r.acceptedCount, 2);
        bytes32 root = keccak256(abi.encode(bytes32(0), clients[0], fixtures[A].weightsHash, fixtures[A].correct));
        root = keccak256(abi.encode(root, clients[1], fixtures[B].weightsHash, fixtures[B].correct));
        assertEq(r.contributionsRoot, root);
        publish(id, keccak256("global 1"), "bafkreiglobal");
        assertEq(zkpot.getTask(id).currentRound, 2);
    }

    function test_submitClaim_onlyInOptimisticTasks() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Claim memory cl = claimOf(id, clients[0], A, fixtures[A].proof);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongVerificationMode.selector, id, false));
        zkpot.submitClaim(id, 1, cl);
        vm.prank(disputer);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongVerificationMode.selector, id, false));
        zkpot.dispute(id, 1, clients[0], "");
    }

    function test_submitClaim_checksTheOpeningAndTheCount() public {
        uint256 id = optimisticTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Claim memory cl = claimOf(id, clients[0], A, fixtures[A].proof);
        cl.weightsHash = fixtures[B].weightsHash;
        bytes32 opened = zkpot.commitmentOf(clients[0], id, 1, cl.weightsHash, cl.salt);
        bytes32 expected = zkpot.getContribution(id, 1, clients[0]).commitment;
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTCommitmentMismatch.selector, clients[0], expected, opened));
        zkpot.submitClaim(id, 1, cl);
        cl = claimOf(id, clients[0], A, fixtures[A].proof);
        cl.claimedCorrect = evalSamples + 1;
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTCountOutOfRange.selector, evalSamples + 1, evalSamples));
        zkpot.submitClaim(id, 1, cl);
    }

    // ================================================================= disputes

    function test_dispute_aValidProofStandsAndTheBondGoesToTheClient() public {
        uint256 id = optimisticTask();
        twoClaims(id);
        vm.expectEmit(address(zkpot));
        emit DisputeRejected(id, 1, clients[0], disputer, DISPUTE_BOND);
        disputeWith(id, clients[0], fixtures[A].proof);
        assertTrue(zkpot.getContribution(id, 1, clients[0]).verified);
        assertEq(zkpot.creditOf(clients[0]), DISPUTE_BOND);
        // A verified proof cannot be disputed again.
        vm.prank(disputer);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotDisputable.selector, id, 1, clients[0]));
        zkpot.dispute{value: DISPUTE_BOND}(id, 1, clients[0], fixtures[A].proof);
        pastDisputeWindow(id);
        zkpot.closeRound(id, standing(clients[0], clients[1]));
        assertEq(zkpot.getRound(id, 1).leader, clients[0]);
    }

    function test_dispute_anInvalidProofIsStruckAndItsStakePaysTheDisputer() public {
        uint256 id = optimisticTask();
        commitTo(id, clients[0], A);
        commitTo(id, clients[1], B);
        toProofPhase(id);
        bytes memory fake = forged(A);
        claimFor(id, clients[0], A, fake); // the higher count, but no valid proof
        claimFor(id, clients[1], B, fixtures[B].proof);
        uint256 pool = zkpot.getTask(id).rewardPool;
        vm.expectEmit(address(zkpot));
        emit ContributionStruck(id, 1, clients[0], disputer, STAKE, STAKE / 2);
        disputeWith(id, clients[0], fake);
        ZKPoT.Contribution memory c = zkpot.getContribution(id, 1, clients[0]);
        assertTrue(c.struck && !c.accepted);
        assertEq(zkpot.getMember(id, clients[0]).stake, 0);
        // Half the stake pays the disputer; the other half, the round's rewards.
        assertEq(zkpot.creditOf(disputer), STAKE / 2 + DISPUTE_BOND);
        assertEq(zkpot.getTask(id).rewardPool, pool + STAKE - STAKE / 2);
        assertEq(zkpot.getRound(id, 1).acceptedCount, 1);
        pastDisputeWindow(id);
        // The struck claim is not among what stands.
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongStanding.selector, id, 1, 0));
        zkpot.closeRound(id, standing(clients[0], clients[1]));
        zkpot.closeRound(id, standing(clients[1]));
        assertEq(zkpot.getRound(id, 1).leader, clients[1]);
    }

    /// @notice A cheater that sees a dispute coming and disputes itself first, from
    ///         another account, gets only half its stake back: the other half goes to
    ///         the round's rewards.
    function test_dispute_aCheaterThatDisputesItselfStillLosesHalf() public {
        uint256 id = optimisticTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        bytes memory fake = forged(A);
        claimFor(id, clients[0], A, fake);
        address sybil = makeAddr("sybil");
        vm.deal(sybil, DISPUTE_BOND);
        uint256 pool = zkpot.getTask(id).rewardPool;
        vm.prank(sybil);
        zkpot.dispute{value: DISPUTE_BOND}(id, 1, clients[0], fake);
        assertEq(zkpot.creditOf(sybil) + zkpot.creditOf(clients[0]), DISPUTE_BOND + STAKE / 2);
        assertEq(zkpot.getTask(id).rewardPool - pool, STAKE - STAKE / 2);
    }

    function test_dispute_refusals() public {
        uint256 id = optimisticTask();
        twoClaims(id);
        vm.prank(disputer);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongDisputeBond.selector, 1, DISPUTE_BOND));
        zkpot.dispute{value: 1}(id, 1, clients[0], fixtures[A].proof);
        bytes memory other = fixtures[B].proof;
        vm.prank(disputer);
        vm.expectRevert(
            abi.encodeWithSelector(ZKPoTProofHashMismatch.selector, keccak256(fixtures[A].proof), keccak256(other))
        );
        zkpot.dispute{value: DISPUTE_BOND}(id, 1, clients[0], other);
        vm.prank(disputer);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotDisputable.selector, id, 1, clients[2]));
        zkpot.dispute{value: DISPUTE_BOND}(id, 1, clients[2], fixtures[A].proof);
        (, ZKPoT.Round memory r) = roundOf(id);
        vm.roll(r.disputeEnd + 1);
        vm.prank(disputer);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotInDisputeWindow.selector, id, 1, block.number, r.disputeEnd));
        zkpot.dispute{value: DISPUTE_BOND}(id, 1, clients[0], fixtures[A].proof);
    }

    // ================================================================= challenges

    function test_settleChallenge_theBytesBroughtInTimeAreJudged() public {
        uint256 id = optimisticTask();
        twoClaims(id);
        vm.expectEmit(address(zkpot));
        emit ClaimChallenged(id, 1, clients[0], disputer, zkpot.getRound(id, 1).answerEnd);
        disputeWith(id, clients[0], "");
        assertEq(zkpot.getTask(id).heldBonds, DISPUTE_BOND);
        pastDisputeWindow(id);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTChallengesOpen.selector, id, 1, 1));
        zkpot.closeRound(id, standing(clients[0], clients[1]));
        vm.prank(clients[0]);
        zkpot.settleChallenge(id, 1, clients[0], fixtures[A].proof);
        assertEq(zkpot.creditOf(clients[0]), DISPUTE_BOND);
        assertEq(zkpot.getTask(id).heldBonds, 0);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNoChallenge.selector, id, 1, clients[0]));
        zkpot.settleChallenge(id, 1, clients[0], fixtures[A].proof);
        zkpot.closeRound(id, standing(clients[0], clients[1]));
        assertEq(zkpot.getRound(id, 1).leader, clients[0]);
    }

    function test_settleChallenge_aProofNeverBroughtIsStruck() public {
        uint256 id = optimisticTask();
        twoClaims(id);
        disputeWith(id, clients[0], "");
        (, ZKPoT.Round memory r) = roundOf(id);
        vm.roll(r.answerEnd + 1);
        zkpot.settleChallenge(id, 1, clients[0], "");
        assertTrue(zkpot.getContribution(id, 1, clients[0]).struck);
        assertEq(zkpot.creditOf(disputer), STAKE / 2 + DISPUTE_BOND);
        zkpot.closeRound(id, standing(clients[1]));
        assertEq(zkpot.getRound(id, 1).leader, clients[1]);
    }

    // ================================================================= close

    function test_closeRound_theStandingListMustBeCompleteAndInOrder() public {
        uint256 id = optimisticTask();
        twoClaims(id);
        pastDisputeWindow(id);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongStanding.selector, id, 1, 1));
        zkpot.closeRound(id, standing(clients[1], clients[0])); // out of order
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongStanding.selector, id, 1, 1));
        zkpot.closeRound(id, standing(clients[0])); // one missing
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongStanding.selector, id, 1, 1));
        zkpot.closeRound(id, standing(clients[0], clients[0])); // twice
        // An optimistic round is closed (with its list) before its model is published.
        vm.prank(aggregator);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongRoundStatus.selector, id, 1, RoundStatus.Open));
        zkpot.publishGlobalModel(id, 1, unproven(keccak256("global 1"), "bafkreiglobal"));
    }

    function test_closeRound_anImmediateRoundTakesNoList() public {
        uint256 id = startedTask();
        playRound(id, models(A));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongStanding.selector, id, 1, 0));
        zkpot.closeRound(id, standing(clients[0]));
    }

    function test_leave_notWhileAClaimCanBeDisputed() public {
        uint256 id = optimisticTask();
        twoClaims(id);
        pastDisputeWindow(id);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTProofPending.selector, id, clients[0], 1));
        zkpot.leave(id);
    }

    // ================================================================= top-ups

    function test_topUpStake_aSlashedClientTakesPartAgain() public {
        uint256 id = startedTask();
        commitTo(id, clients[0], A); // and never proves
        toAggregatePhase(id);
        zkpot.closeRound(id, new address[](0));
        zkpot.slashMissedProof(id, clients[0]);
        assertEq(zkpot.getMember(id, clients[0]).stake, STAKE - PENALTY);
        (uint256 round,) = roundOf(id);
        assertEq(round, 2);
        bytes32 commitment =
            zkpot.commitmentOf(clients[0], id, 2, fixtures[fixtureFor(0, 2)].weightsHash, saltOf(clients[0], 2));
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotEligible.selector, id, clients[0], STAKE - PENALTY));
        zkpot.commit(id, 2, commitment);
        vm.prank(clients[0]);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTEmptyTopUp.selector));
        zkpot.topUpStake(id);
        vm.expectEmit(address(zkpot));
        emit StakeToppedUp(id, clients[0], PENALTY, STAKE);
        vm.prank(clients[0]);
        zkpot.topUpStake{value: PENALTY}(id);
        vm.prank(clients[0]);
        zkpot.commit(id, 2, commitment);
        address stranger = makeAddr("stranger");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTNotRegistered.selector, id, stranger));
        zkpot.topUpStake(id);
    }

    // ================================================================= fuzz

    /// @notice Any top-up by a registered client adds exactly its value to its stake and
    ///         the task's total, and the contract's balance.
    function testFuzz_topUpStake_addsExactlyTheValue(uint96 amount, uint8 who) public {
        uint256 id = startedTask();
        address c = clients[who % clients.length];
        amount = uint96(bound(amount, 1, 50 ether));
        uint256 total = zkpot.getTask(id).totalStake;
        uint256 balance = address(zkpot).balance;
        vm.prank(c);
        zkpot.topUpStake{value: amount}(id);
        assertEq(zkpot.getMember(id, c).stake, STAKE + amount);
        assertEq(zkpot.getTask(id).totalStake, total + amount);
        assertEq(address(zkpot).balance, balance + amount);
    }

    /// @notice A claim with any proof hash and any count within the batch is recorded as
    ///         claimed, accepted exactly when the count reaches the threshold; one above
    ///         the batch is refused.
    function testFuzz_submitClaim_recordsAnyCountWithinTheBatch(uint32 count, bytes32 proofHash) public {
        uint256 id = optimisticTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        Claim memory cl = claimOf(id, clients[0], A, "");
        cl.proofHash = proofHash;
        cl.claimedCorrect = bound(count, 0, uint256(evalSamples) + 1);
        vm.prank(clients[0]);
        if (cl.claimedCorrect > evalSamples) {
            vm.expectRevert(abi.encodeWithSelector(ZKPoTCountOutOfRange.selector, cl.claimedCorrect, evalSamples));
            zkpot.submitClaim(id, 1, cl);
            return;
        }
        zkpot.submitClaim(id, 1, cl);
        ZKPoT.Contribution memory c = zkpot.getContribution(id, 1, clients[0]);
        assertEq(c.correct, cl.claimedCorrect);
        assertEq(c.proofHash, proofHash);
        assertEq(c.accepted, cl.claimedCorrect >= minCorrect);
        assertEq(zkpot.getRound(id, 1).acceptedCount, c.accepted ? 1 : 0);
    }

    /// @notice A dispute with the claimed bytes, one byte of a valid proof flipped or not:
    ///         the valid proof stands and pays the bond to its client, every flip is
    ///         struck and pays the stake to the disputer; money is conserved.
    function testFuzz_dispute_strikesExactlyTheInvalidProofs(uint16 at, bool flip) public {
        uint256 id = optimisticTask();
        commitTo(id, clients[0], A);
        toProofPhase(id);
        bytes memory proof = bytes.concat(fixtures[A].proof);
        if (flip) {
            uint256 i = bound(at, 0, proof.length - 1);
            proof[i] = bytes1(uint8(proof[i]) ^ 1);
        }
        claimFor(id, clients[0], A, proof);
        uint256 balance = address(zkpot).balance;
        disputeWith(id, clients[0], proof);
        ZKPoT.Contribution memory c = zkpot.getContribution(id, 1, clients[0]);
        assertEq(c.struck, flip);
        assertEq(c.verified, !flip);
        assertEq(zkpot.creditOf(disputer), flip ? STAKE / 2 + DISPUTE_BOND : 0);
        assertEq(zkpot.creditOf(clients[0]), flip ? 0 : DISPUTE_BOND);
        assertEq(address(zkpot).balance, balance + DISPUTE_BOND);
    }

    /// @notice A challenge is settled by the claimed bytes before `answerEnd` (judged) or
    ///         by anyone after it (struck), at any block; the held bond always leaves.
    function testFuzz_settleChallenge_judgesInTimeStrikesAfter(uint8 late, bool bring) public {
        uint256 id = optimisticTask();
        twoClaims(id);
        disputeWith(id, clients[0], "");
        (, ZKPoT.Round memory r) = roundOf(id);
        uint256 blockAt = bound(late, block.number, uint256(r.answerEnd) + 5);
        vm.roll(blockAt);
        bool inTime = blockAt <= r.answerEnd;
        bytes memory brought = bring ? fixtures[A].proof : bytes("");
        if (inTime && !bring) {
            // In time, only the claimed bytes settle it.
            vm.expectRevert(
                abi.encodeWithSelector(ZKPoTProofHashMismatch.selector, keccak256(fixtures[A].proof), keccak256(""))
            );
            zkpot.settleChallenge(id, 1, clients[0], brought);
            return;
        }
        zkpot.settleChallenge(id, 1, clients[0], brought);
        assertEq(zkpot.getTask(id).heldBonds, 0);
        ZKPoT.Contribution memory c = zkpot.getContribution(id, 1, clients[0]);
        assertEq(c.struck, !inTime);
        assertEq(c.verified, inTime);
    }

    /// @notice The registry (`circuits`) verifies a fixture's proof only with its count.
    function testFuzz_circuits_verifyOnlyTheProvenCount(uint256 count) public view {
        CircuitRegistry registry = CircuitRegistry(zkpot.circuits());
        uint256[] memory instances = new uint256[](1);
        instances[0] = count;
        assertEq(registry.verify(vkaDigest, fixtures[A].proof, instances), count == fixtures[A].correct);
    }

    /// @notice The registry keeps exactly the registered artefact: its data contract's
    ///         code is a zero byte and the artefact's words; any other digest has none;
    ///         registering again changes nothing.
    function testFuzz_circuits_keepOnlyTheRegisteredArtefact(bytes32 digest) public {
        CircuitRegistry registry = CircuitRegistry(zkpot.circuits());
        address data = registry.artefactOf(vkaDigest);
        assertEq(data.code, bytes.concat(bytes1(0), abi.encodePacked(vka)));
        if (digest != vkaDigest) assertEq(registry.artefactOf(digest), address(0));
        (bytes32 again,,) = registry.register(vka);
        assertEq(again, vkaDigest);
        assertEq(registry.artefactOf(vkaDigest), data);
    }
}
