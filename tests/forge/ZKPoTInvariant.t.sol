// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {ZKPoT} from "../../contracts/ZKPoT.sol";
import {ZKPoTBase} from "./ZKPoTBase.sol";
import {ZKPoTHandler} from "./handlers/ZKPoTHandler.sol";

/// @notice Stateful invariant tests of ZKPoT: ZKPoTHandler drives tasks through random
///         sequences of every external action, with the real ezkl proofs (and corrupted
///         ones); after each call the properties below must hold. Runs are deeper than the
///         project default so that each one goes through several tasks.
/// forge-config: default.invariant.runs = 32
/// forge-config: default.invariant.depth = 100
contract ZKPoTInvariantTest is ZKPoTBase {
    ZKPoTHandler internal handler;

    function setUp() public override {
        super.setUp();
        // The handler's proofs are all on batch 0, which every round commits to; the proof
        // of model a on batch 1 (a's hash) is one of its corrupted submissions.
        handler = new ZKPoTHandler(
            zkpot, vka, vkaDigest, evalSamples, batchZeroFixtures(), batches[0], fixtures[aBatch2].proof
        );
        bytes4[] memory actions = new bytes4[](23);
        actions[0] = ZKPoTHandler.createTask.selector;
        actions[1] = ZKPoTHandler.register.selector;
        actions[2] = ZKPoTHandler.cancelTask.selector;
        actions[3] = ZKPoTHandler.commit.selector;
        actions[4] = ZKPoTHandler.submitProof.selector;
        actions[5] = ZKPoTHandler.closeRound.selector;
        actions[6] = ZKPoTHandler.publishGlobalModel.selector;
        actions[7] = ZKPoTHandler.finalizeWithoutAggregator.selector;
        actions[8] = ZKPoTHandler.advance.selector;
        actions[9] = ZKPoTHandler.slashMissedProof.selector;
        actions[10] = ZKPoTHandler.claimReward.selector;
        actions[11] = ZKPoTHandler.releaseStake.selector;
        actions[12] = ZKPoTHandler.withdraw.selector;
        // Second tickets for commitments and submissions: a round needs both, in its windows.
        actions[13] = ZKPoTHandler.commit.selector;
        actions[14] = ZKPoTHandler.submitProof.selector;
        actions[15] = ZKPoTHandler.frontRun.selector;
        actions[16] = ZKPoTHandler.leave.selector;
        actions[17] = ZKPoTHandler.revealBatch.selector;
        actions[18] = ZKPoTHandler.missReveal.selector;
        actions[19] = ZKPoTHandler.dispute.selector;
        actions[20] = ZKPoTHandler.settleChallenge.selector;
        actions[21] = ZKPoTHandler.topUpStake.selector;
        // A second ticket for disputes: a claim can be disputed only in its window.
        actions[22] = ZKPoTHandler.dispute.selector;
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: actions}));
    }

    // ================================================================= invariants

    /// @notice Every wei is accounted for: the contract holds exactly what went in minus what
    ///         was withdrawn, and that is exactly what it owes: each task's pool, bond, stakes,
    ///         unclaimed rewards and the bonds of open challenges, plus the credit of every
    ///         account.
    function invariant_etherIsFullyAccountedFor() public view {
        uint256 held = address(zkpot).balance;
        assertEq(held, handler.ghostDeposited() - handler.ghostWithdrawn(), "held != deposited - withdrawn");
        uint256 owed;
        uint256[] memory ids = handler.allTasks();
        for (uint256 i = 0; i < ids.length; i++) {
            ZKPoT.Task memory t = zkpot.getTask(ids[i]);
            owed += t.rewardPool + t.aggregatorBond + t.totalStake + t.unclaimedRewards + t.heldBonds;
        }
        address[] memory accounts = handler.allAccounts();
        for (uint256 i = 0; i < accounts.length; i++) {
            owed += zkpot.creditOf(accounts[i]);
        }
        assertEq(held, owed, "held != owed");
    }

    /// @notice At most one leader per round: a round has a leader exactly when it accepted a
    ///         contribution (an optimistic round has none until it is closed), and the
    ///         leader's contribution is accepted, not struck, with the round's
    ///         leaderCorrect as its count.
    function invariant_oneLeaderPerRound() public view {
        uint256[] memory ids = handler.allTasks();
        for (uint256 i = 0; i < ids.length; i++) {
            ZKPoT.Task memory t = zkpot.getTask(ids[i]);
            for (uint256 round = 1; round <= t.currentRound; round++) {
                ZKPoT.Round memory r = zkpot.getRound(ids[i], round);
                bool elected = !t.optimistic || r.status != RoundStatus.Open;
                assertEq(r.leader == address(0), !elected || r.acceptedCount == 0, "leader iff accepted");
                if (r.leader == address(0)) continue;
                ZKPoT.Contribution memory c = zkpot.getContribution(ids[i], round, r.leader);
                assertTrue(c.accepted && !c.struck, "leader not accepted");
                assertEq(c.correct, r.leaderCorrect, "leader count");
            }
        }
    }

    /// @notice The leader has the best count of its round, and on a tie the lower key under
    ///         the round's tie-break seed; the round's accepted count and contributions root
    ///         are exactly those of the accepted contributions that stand, folded in the
    ///         order they verified (immediate) or were claimed (optimistic, at close).
    function invariant_leaderHasTheBestCount() public view {
        uint256[] memory ids = handler.allTasks();
        address[] memory actors = handler.allActors();
        for (uint256 i = 0; i < ids.length; i++) {
            ZKPoT.Task memory t = zkpot.getTask(ids[i]);
            for (uint256 round = 1; round <= t.currentRound; round++) {
                ZKPoT.Round memory r = zkpot.getRound(ids[i], round);
                bool elected = !t.optimistic || r.status != RoundStatus.Open;
                uint256 accepted;
                for (uint256 a = 0; a < actors.length; a++) {
                    ZKPoT.Contribution memory c = zkpot.getContribution(ids[i], round, actors[a]);
                    if (!c.accepted) continue;
                    accepted++;
                    if (!elected) continue;
                    assertLe(c.correct, r.leaderCorrect, "a count beats the leader");
                    if (c.correct == r.leaderCorrect && actors[a] != r.leader) {
                        assertLt(
                            uint256(keccak256(abi.encode(r.tieBreakSeed, r.leader))),
                            uint256(keccak256(abi.encode(r.tieBreakSeed, actors[a]))),
                            "tie not to the lower key"
                        );
                    }
                }
                assertEq(accepted, r.acceptedCount, "accepted count");
                assertEq(r.contributionsRoot, handler.ghostContributionsRoot(ids[i], round), "contributions root");
            }
        }
    }

    /// @notice Nothing published after a round's commit end voids a proof of that round:
    ///         no honest submission whose hash only a front-runner had published (a free
    ///         task naming it as initial model, mined before the proof) is refused as stale.
    function invariant_aFrontRunNeverVoidsAProof() public view {
        assertEq(handler.ghostVoidedByFrontRun(), 0, "a front-run voided an honest proof");
    }

    /// @notice No contribution without a verifying proof: no corrupted submission (flipped
    ///         proof byte, forged count, another model's proof, junk commitment, wrong salt)
    ///         ever succeeded, and every contribution of an immediate task, and every one
    ///         verified in an optimistic task, is one of the real proofs' (weightsHash,
    ///         count); each is accepted exactly when the count reaches the threshold and
    ///         it was not struck.
    function invariant_onlyVerifiedProofsAreAccepted() public view {
        assertEq(handler.ghostCorruptedAccepted(), 0, "a corrupted submission was accepted");
        uint256[] memory ids = handler.allTasks();
        address[] memory actors = handler.allActors();
        for (uint256 i = 0; i < ids.length; i++) {
            ZKPoT.Task memory t = zkpot.getTask(ids[i]);
            for (uint256 round = 1; round <= t.currentRound; round++) {
                for (uint256 a = 0; a < actors.length; a++) {
                    ZKPoT.Contribution memory c = zkpot.getContribution(ids[i], round, actors[a]);
                    if (!c.submitted) {
                        assertFalse(c.accepted, "accepted without a submission");
                        continue;
                    }
                    if (!t.optimistic || c.verified) {
                        assertTrue(isFixture(c.weightsHash, c.correct), "not a real proof's instances");
                    }
                    assertEq(c.accepted, c.correct >= t.minCorrect && !c.struck, "threshold");
                }
            }
        }
    }

    /// @notice Disputes: a claim whose bytes were judged stands exactly when they are its
    ///         valid proof, no immediate task takes a claim, a struck contribution is
    ///         neither accepted, nor verified, nor the leader, a round closes with no
    ///         challenge open, and the bonds a task holds are those of its open challenges.
    function invariant_noStruckContributionStands() public view {
        assertEq(handler.ghostValidClaimsStruck(), 0, "a valid claim was struck");
        assertEq(handler.ghostInvalidClaimsUpheld(), 0, "an invalid claim was upheld");
        assertEq(handler.ghostClaimsInImmediateTasks(), 0, "an immediate task took a claim");
        uint256[] memory ids = handler.allTasks();
        address[] memory actors = handler.allActors();
        for (uint256 i = 0; i < ids.length; i++) {
            ZKPoT.Task memory t = zkpot.getTask(ids[i]);
            uint256 held;
            for (uint256 round = 1; round <= t.currentRound; round++) {
                ZKPoT.Round memory r = zkpot.getRound(ids[i], round);
                uint256 challenged;
                for (uint256 a = 0; a < actors.length; a++) {
                    ZKPoT.Contribution memory c = zkpot.getContribution(ids[i], round, actors[a]);
                    if (c.challenger != address(0)) challenged++;
                    if (!c.struck) continue;
                    assertTrue(t.optimistic && !c.accepted && !c.verified, "a struck contribution stands");
                    assertTrue(r.leader != actors[a], "a struck contribution leads");
                }
                assertEq(challenged, r.openChallenges, "open challenges");
                if (r.status != RoundStatus.Open) assertEq(challenged, 0, "closed with a challenge open");
                held += challenged * t.disputeBond;
            }
            assertEq(t.heldBonds, held, "held bonds");
        }
    }

    /// @notice The record chain, rebuilt from RoundRecorded events alone, links: record i is
    ///         round i of its task, its prevRecordHash is the hash of record i-1 (zero for
    ///         the genesis record), its hash is the one its event carried and the stored
    ///         recordHash(task, i), and the last one is the task's head; there is one record
    ///         per finalised round, matching the round's leader, count and contributions.
    function invariant_recordChainLinks() public view {
        uint256[] memory ids = handler.allTasks();
        for (uint256 i = 0; i < ids.length; i++) {
            uint256 id = ids[i];
            ZKPoT.Task memory t = zkpot.getTask(id);
            uint256 n = handler.recordCount(id);
            if (t.status == TaskStatus.Cancelled) assertEq(n, 1, "records of a cancelled task");
            else if (t.status == TaskStatus.Completed) assertEq(n, t.numRounds + 1, "records of a completed task");
            else assertEq(n, t.currentRound, "records of a running task");
            bytes32 prev;
            for (uint256 k = 0; k < n; k++) {
                (RoundRecord memory rec, bytes32 emitted) = handler.recordAt(id, k);
                assertEq(rec.taskId, id, "record task");
                assertEq(rec.round, k, "record round");
                assertEq(rec.prevRecordHash, prev, "record link");
                prev = keccak256(abi.encode(rec));
                assertEq(prev, emitted, "emitted record hash");
                assertEq(prev, zkpot.recordHash(id, k), "stored record hash");
                if (k == 0) continue;
                ZKPoT.Round memory r = zkpot.getRound(id, k);
                assertEq(uint8(r.status), uint8(RoundStatus.Finalized), "recorded round not finalised");
                assertEq(rec.leader, r.leader, "record leader");
                assertEq(rec.leaderCorrect, r.leaderCorrect, "record leader count");
                assertEq(rec.acceptedCount, r.acceptedCount, "record accepted count");
                assertEq(rec.contributionsRoot, r.contributionsRoot, "record contributions");
            }
            assertEq(prev, t.headRecord, "head record");
        }
    }

    /// @notice Rewards are conserved: what the closed rounds of a task took from its pool
    ///         and bond (bonus + share x accepted, or, for a round whose batch was never
    ///         revealed, compensation x committed) is exactly its unclaimed rewards plus
    ///         what was claimed.
    function invariant_rewardsAreConserved() public view {
        uint256[] memory ids = handler.allTasks();
        for (uint256 i = 0; i < ids.length; i++) {
            ZKPoT.Task memory t = zkpot.getTask(ids[i]);
            uint256 fixed_;
            for (uint256 round = 1; round <= t.currentRound; round++) {
                ZKPoT.Round memory r = zkpot.getRound(ids[i], round);
                if (r.batchDigest == bytes32(0)) fixed_ += r.contributorReward * r.committedCount;
                else fixed_ += r.leaderBonus + r.contributorReward * r.acceptedCount;
            }
            assertEq(fixed_, t.unclaimedRewards + handler.ghostClaimed(ids[i]), "rewards fixed != unclaimed + claimed");
        }
    }

    /// @notice Proofs are taken only on the round's revealed batch, and only the batch the
    ///         round committed to is ever revealed: no corrupted reveal (wrong salt, batch
    ///         off by a bit, no CID, not the publisher) succeeded; a round with a verified
    ///         proof has the fixtures' batch revealed (digest and length); a round whose
    ///         batch was never revealed has no proof, no leader and no bonus, and once
    ///         finalised compensated its committed clients with no more than the
    ///         aggregator penalty in all.
    function invariant_proofsOnlyOnTheRevealedBatch() public view {
        assertEq(handler.ghostCorruptedRevealsAccepted(), 0, "a corrupted reveal was accepted");
        bytes32 digest = keccak256(batches[0]);
        uint256[] memory ids = handler.allTasks();
        for (uint256 i = 0; i < ids.length; i++) {
            ZKPoT.Task memory t = zkpot.getTask(ids[i]);
            for (uint256 round = 1; round <= t.currentRound; round++) {
                ZKPoT.Round memory r = zkpot.getRound(ids[i], round);
                if (r.batchDigest != bytes32(0)) {
                    assertEq(r.batchDigest, digest, "another batch revealed");
                    assertEq(r.batchLength, batches[0].length, "batch length");
                    continue;
                }
                assertEq(r.batchLength, 0, "a length without a batch");
                assertEq(r.provedCount + r.acceptedCount, 0, "a proof without a revealed batch");
                assertEq(r.leaderBonus, 0, "a bonus without a revealed batch");
                assertLe(r.contributorReward * r.committedCount, t.aggregatorPenalty, "compensation over the penalty");
            }
        }
    }

    /// @notice Stakes: a task's totalStake is the sum of its members' stakes, and it never has
    ///         more members than maxClients.
    function invariant_stakesAreTheMembers() public view {
        uint256[] memory ids = handler.allTasks();
        address[] memory actors = handler.allActors();
        for (uint256 i = 0; i < ids.length; i++) {
            ZKPoT.Task memory t = zkpot.getTask(ids[i]);
            uint256 total;
            uint256 members;
            for (uint256 a = 0; a < actors.length; a++) {
                ZKPoT.Member memory m = zkpot.getMember(ids[i], actors[a]);
                total += m.stake;
                if (m.registered) members++;
            }
            assertEq(t.totalStake, total, "total stake");
            assertEq(t.clientCount, members, "client count");
            assertLe(members, t.maxClients, "too many clients");
        }
    }

    /// @notice After each run, logs the number of successful and rejected calls per action
    ///         and the deep states reached: accepted proofs, finalised rounds (published, with
    ///         the aggregator missing, or empty) and completed tasks (`-vv` shows the last run).
    function afterInvariant() public {
        emit log_named_uint("corrupted submissions", handler.ghostCorruptedSubmissions());
        emit log_named_uint("corrupted reveals", handler.ghostCorruptedReveals());
        emit log_named_uint("honest proofs after a front-run", handler.ghostFrontRunThenSubmitted());
        string[52] memory names = [
            "create",
            "create.rejected",
            "register",
            "register.rejected",
            "cancel",
            "cancel.rejected",
            "commit",
            "commit.rejected",
            "reveal",
            "reveal.rejected",
            "missReveal",
            "proof.accepted",
            "proof.belowThreshold",
            "proof.rejected",
            "close",
            "close.rejected",
            "publish",
            "publish.rejected",
            "finalize",
            "finalize.rejected",
            "round.published",
            "round.aggregatorMissed",
            "round.empty",
            "round.revealMissed",
            "task.completed",
            "slash",
            "slash.rejected",
            "claim",
            "claim.rejected",
            "claim.compensation",
            "release",
            "release.rejected",
            "withdraw",
            "withdraw.rejected",
            "frontRun",
            "frontRun.rejected",
            "leave",
            "leave.rejected",
            "optimistic.claim",
            "optimistic.forgedClaim",
            "optimistic.claim.rejected",
            "dispute.challenge",
            "dispute.rejected",
            "dispute.struck",
            "dispute.upheld",
            "answer.upheld",
            "answer.struck",
            "unanswered.struck",
            "settle.rejected",
            "topUp",
            "topUp.rejected",
            "unanswered.upheld"
        ];
        for (uint256 i = 0; i < names.length; i++) {
            emit log_named_uint(names[i], handler.calls(bytes32(bytes(names[i]))));
        }
    }

    function isFixture(bytes32 weightsHash, uint256 correct) internal view returns (bool) {
        for (uint256 f = 0; f < handler.fixtureCount(); f++) {
            (bytes32 h, uint256 n) = handler.fixtureOf(f);
            if (h == weightsHash && n == correct) return true;
        }
        return false;
    }
}
