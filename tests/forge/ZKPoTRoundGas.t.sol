// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {console} from "forge-std/console.sol";
import {ZKPoT} from "../../contracts/ZKPoT.sol";
import {ProofFixture, ZKPoTBase} from "./ZKPoTBase.sol";

/// @notice The gas of whole rounds, in both verification modes, for 4, 10 and 100
///         clients: every transaction of a round (commit, reveal, proof or claim,
///         close, the global model, reward claims) counted as a chain charges it, its
///         execution plus the intrinsic cost of the transaction and its calldata under
///         EIP-7623's floor. Immediate rounds use the real proofs of the tests' circuit,
///         one distinct model per client (11 exist on round 1's batch); optimistic
///         rounds need no proof unless disputed, so any number of clients can claim.
///         Each test asserts the round's outcome and the issue's targets per accepted
///         contribution; `scripts/gas_report.py` reads the figures they log into
///         docs/gas.md.
contract ZKPoTRoundGasTest is ZKPoTBase {
    /// @dev Per accepted contribution: its submission (the proof or the claim) plus its
    ///      share of closing and finalising the round (`closeRound`, `publishGlobalModel`).
    ///      docs/gas.md also gives the whole round's cost per contribution, with the
    ///      commitments, the batch's reveal and the reward claims.
    uint256 internal constant OPTIMISTIC_TARGET = 300_000;
    uint256 internal constant IMMEDIATE_TARGET = 1_450_000;

    /// @dev The gas of one round's transactions, summed per kind.
    struct RoundGas {
        uint256 commit;
        uint256 submit;
        uint256 reveal;
        uint256 close;
        uint256 publish;
        uint256 claimReward;
    }

    address[] internal crowd;

    /// @dev Sends `data` to ZKPoT from `from` and returns what a chain charges for it:
    ///      21,000 plus the larger of (4 gas per calldata token plus execution) and 10
    ///      per token (EIP-7623), a token being a zero byte or a quarter of a nonzero one.
    function send(address from, bytes memory data) internal returns (uint256) {
        vm.prank(from);
        (bool ok, bytes memory reason) = address(zkpot).call(data);
        if (!ok) {
            assembly {
                revert(add(reason, 0x20), mload(reason))
            }
        }
        uint256 tokens;
        for (uint256 i = 0; i < data.length; i++) {
            tokens += data[i] == 0 ? 1 : 4;
        }
        uint256 execution = vm.lastCallGas().gasTotalUsed;
        uint256 standard = 4 * tokens + execution;
        uint256 floor = 10 * tokens;
        return 21_000 + (standard > floor ? standard : floor);
    }

    /// @dev A started task of `n` registered clients, in the given mode.
    function taskOf(uint256 n, bool optimistic) internal returns (uint256 id) {
        TaskConfig memory c = defaultConfig();
        c.maxClients = uint32(n);
        if (optimistic) {
            c.optimistic = true;
            c.disputeBlocks = 4;
            c.disputeBond = 0.2 ether;
        }
        id = createTask(c, POOL);
        for (uint256 i = 0; i < n; i++) {
            address client = i < clients.length ? clients[i] : makeAddr(string.concat("crowd", vm.toString(i)));
            vm.deal(client, 10 ether);
            crowd.push(client);
            register(id, client);
        }
        vm.roll(zkpot.getTask(id).startBlock);
    }

    /// @dev The fixture of client `i` in immediate rounds: the `i`-th accepted one
    ///      proven on round 1's batch, so each client has its own model.
    function fixtureOf(uint256 i) internal view returns (uint256 f) {
        uint256 k;
        for (f = 0; f < fixtures.length; f++) {
            if (f == aBatch2 || fixtures[f].correct < minCorrect) continue;
            if (k++ == i) return f;
        }
        revert("not enough accepted fixtures on batch 0");
    }

    /// @dev The model client `i` trains: its fixture's in immediate rounds, any fresh
    ///      hash and an accepted count in optimistic ones.
    function modelOf(uint256 i, bool optimistic) internal view returns (bytes32 weightsHash, uint256 correct) {
        if (optimistic) return (keccak256(abi.encode("model", i)), minCorrect + i % (evalSamples - minCorrect + 1));
        ProofFixture storage f = fixtures[fixtureOf(i)];
        return (f.weightsHash, f.correct);
    }

    /// @dev Plays round 1 of a task of `n` clients to its end, each client's
    ///      contribution accepted, and returns the gas of each kind of transaction.
    function playRound(uint256 n, bool optimistic) internal returns (RoundGas memory g, uint256 id) {
        id = taskOf(n, optimistic);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        for (uint256 i = 0; i < n; i++) {
            (bytes32 w,) = modelOf(i, optimistic);
            bytes32 commitment = zkpot.commitmentOf(crowd[i], id, 1, w, saltOf(crowd[i], 1));
            g.commit += send(crowd[i], abi.encodeCall(zkpot.commit, (id, 1, commitment)));
        }
        vm.roll(r.commitEnd + 1);
        g.reveal = send(publisher, abi.encodeCall(zkpot.revealBatch, (id, 1, batches[0], batchSalt(1), BATCH_CID)));
        address[] memory standing = new address[](optimistic ? n : 0);
        for (uint256 i = 0; i < n; i++) {
            g.submit += optimistic ? send(crowd[i], claimCall(id, i)) : send(crowd[i], proofCall(id, i));
            if (optimistic) standing[i] = crowd[i];
        }
        r = zkpot.getRound(id, 1);
        vm.roll(r.disputeEnd + 1);
        g.close = send(crowd[0], abi.encodeCall(zkpot.closeRound, (id, standing)));
        g.publish =
            send(aggregator, abi.encodeCall(zkpot.publishGlobalModel, (id, 1, unproven(keccak256("global 1"), "bafkreiglobal"))));
        for (uint256 i = 0; i < n; i++) {
            g.claimReward += send(crowd[i], abi.encodeCall(zkpot.claimReward, (id, 1)));
        }
    }

    function claimCall(uint256 id, uint256 i) internal view returns (bytes memory) {
        (bytes32 w, uint256 correct) = modelOf(i, true);
        Claim memory cl = Claim({
            weightsHash: w,
            proofHash: keccak256(abi.encode("proof", i)),
            claimedCorrect: correct,
            salt: saltOf(crowd[i], 1),
            sealedWeightsCid: "bafkreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
            proofCid: "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        });
        return abi.encodeCall(zkpot.submitClaim, (id, 1, cl));
    }

    function proofCall(uint256 id, uint256 i) internal view returns (bytes memory) {
        Submission memory s = submission(fixtureOf(i), saltOf(crowd[i], 1));
        s.sealedWeightsCid = "bafkreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";
        return abi.encodeCall(zkpot.submitProof, (id, 1, s));
    }

    /// @dev Plays the round, checks that every contribution was accepted, the leader
    ///      elected and the round finalised, logs its gas for the report and checks the
    ///      mode's target.
    function measure(uint256 n, bool optimistic) internal {
        (RoundGas memory g, uint256 id) = playRound(n, optimistic);
        ZKPoT.Round memory r = zkpot.getRound(id, 1);
        assertEq(r.acceptedCount, n);
        assertEq(uint8(r.status), uint8(RoundStatus.Finalized));
        assertEq(zkpot.getTask(id).currentRound, 2);
        uint256 best;
        for (uint256 i = 0; i < n; i++) {
            (, uint256 correct) = modelOf(i, optimistic);
            if (correct > best) best = correct;
        }
        assertEq(r.leaderCorrect, best);

        string memory mode = optimistic ? "optimistic" : "immediate";
        logGas(mode, n, "commit", g.commit);
        logGas(mode, n, "submit", g.submit);
        logGas(mode, n, "reveal", g.reveal);
        logGas(mode, n, "close", g.close);
        logGas(mode, n, "publish", g.publish);
        logGas(mode, n, "claimReward", g.claimReward);

        uint256 perContribution = (g.submit + g.close + g.publish) / n;
        assertLe(perContribution, optimistic ? OPTIMISTIC_TARGET : IMMEDIATE_TARGET);
    }

    /// @dev One line `round-gas <mode> <clients> <kind> <gas>` for the report.
    function logGas(string memory mode, uint256 n, string memory kind, uint256 gas) internal pure {
        console.log(string.concat("round-gas ", mode, " ", vm.toString(n), " ", kind, " ", vm.toString(gas)));
    }

    function test_roundGas_immediate_4() public {
        measure(4, false);
    }

    function test_roundGas_immediate_10() public {
        measure(10, false);
    }

    function test_roundGas_optimistic_4() public {
        measure(4, true);
    }

    function test_roundGas_optimistic_10() public {
        measure(10, true);
    }

    function test_roundGas_optimistic_100() public {
        measure(100, true);
    }
}
