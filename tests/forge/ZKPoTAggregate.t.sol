// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {console} from "forge-std/console.sol";
import {Vm} from "forge-std/Vm.sol";
import {ZKPoT} from "../../contracts/ZKPoT.sol";
import {ZKPoTBase} from "./ZKPoTBase.sol";

/// @notice `publishGlobalModel` on ZKPoT itself, with real proofs of the tiny task's
///         aggregation circuit (4 slots) over the fixture models a and b
///         (scripts/make_proof_fixtures.py): a global model is accepted only with a
///         proof that it is the FedAvg of exactly the round's accepted contributions,
///         in the order of its contributions root; every other aggregate reverts with
///         its named error, and the round falls back as when the aggregator is late.
contract ZKPoTAggregateTest is ZKPoTBase {
    struct AggregateFixture {
        bytes proof;
        uint256[] instances;
        bytes32 modelHash;
    }

    mapping(bytes32 name => AggregateFixture) internal aggregates;

    function deployZKPoT() internal override returns (ZKPoT) {
        return new ZKPoT(verifier);
    }

    function setUp() public override {
        super.setUp();
        string memory json = vm.readFile("tests/fixtures/tiny-proofs.json");
        for (uint256 i = 0; vm.keyExistsJson(json, string.concat(".aggregation.aggregates[", vm.toString(i), "]")); i++)
        {
            string memory p = string.concat(".aggregation.aggregates[", vm.toString(i), "]");
            string[] memory instances = vm.parseJsonStringArray(json, string.concat(p, ".instances"));
            AggregateFixture storage f = aggregates[keccak256(bytes(vm.parseJsonString(json, string.concat(p, ".name"))))];
            f.proof = vm.parseJsonBytes(json, string.concat(p, ".proof"));
            f.modelHash = vm.parseJsonBytes32(json, string.concat(p, ".modelHash"));
            for (uint256 k = 0; k < instances.length; k++) {
                f.instances.push(vm.parseUint(instances[k]));
            }
        }
    }

    /// @dev A started task whose round 1 accepted client 0's model a, then client 1's b,
    ///      now in its aggregate phase.
    function roundOfAB() internal returns (uint256 id) {
        id = startedTask();
        playRound(id, models(A, B));
    }

    function aggregateOf(string memory name, address[] memory accepted) internal view returns (Aggregate memory a) {
        AggregateFixture storage f = aggregates[keccak256(bytes(name))];
        require(f.proof.length != 0, string.concat("no aggregate fixture ", name));
        a.modelHash = f.modelHash;
        a.cid = "bafkreiglobal";
        a.accepted = accepted;
        a.proof = f.proof;
        a.instances = f.instances;
    }

    function inOrder(address first, address second) internal pure returns (address[] memory list) {
        list = new address[](2);
        list[0] = first;
        list[1] = second;
    }

    function publishAs(uint256 id, Aggregate memory a) internal {
        vm.prank(aggregator);
        zkpot.publishGlobalModel(id, 1, a);
    }

    function test_aProvenFedAvgIsAdoptedAndRecordedWithItsProof() public {
        uint256 id = roundOfAB();
        Aggregate memory a = aggregateOf("ab", inOrder(clients[0], clients[1]));
        vm.prank(aggregator);
        zkpot.publishGlobalModel(id, 1, a);
        console.log("publishGlobalModel gas (4 slots, 2 accepted):", vm.lastCallGas().gasTotalUsed);

        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(t.globalModelHash, a.modelHash);
        assertEq(t.currentRound, 2);
        assertEq(uint8(zkpot.getRound(id, 1).status), uint8(RoundStatus.Finalized));
        assertGt(zkpot.globalModelPublishedAt(vkaDigest, a.modelHash), 0);
    }

    function test_theRecordNamesTheAggregationProof() public {
        uint256 id = roundOfAB();
        Aggregate memory a = aggregateOf("ab", inOrder(clients[0], clients[1]));
        vm.recordLogs();
        publishAs(id, a);
        bytes32 topic = keccak256(
            "RoundRecorded(uint256,uint256,bytes32,(uint256,uint32,bytes32,address,uint32,uint32,bytes32,bytes32,string,address,bytes32))"
        );
        bool found;
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; i++) {
            if (logs[i].topics[0] != topic) continue;
            RoundRecord memory record = abi.decode(logs[i].data, (RoundRecord));
            assertEq(record.aggregationProofHash, keccak256(a.proof));
            assertEq(record.globalModelHash, a.modelHash);
            assertEq(record.aggregator, aggregator);
            assertEq(zkpot.recordHash(id, 1), zkpot.recordHashOf(record));
            found = true;
        }
        assertTrue(found);
    }

    function test_theAcceptedListMustBeTheRoundsInOrder() public {
        uint256 id = roundOfAB();
        // Swapped: the same clients, another contributions root.
        Aggregate memory a = aggregateOf("ab", inOrder(clients[1], clients[0]));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongAcceptedList.selector, id, 1));
        publishAs(id, a);
        // Leaving a contribution out.
        address[] memory one = new address[](1);
        one[0] = clients[0];
        a = aggregateOf("a_alone", one);
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongAcceptedList.selector, id, 1));
        publishAs(id, a);
        // A client that did not contribute in place of one that did.
        a = aggregateOf("ab", inOrder(clients[0], clients[2]));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTWrongAcceptedList.selector, id, 1));
        publishAs(id, a);
    }

    function test_theProofsSlotsMustHoldTheAcceptedWeightsInOrder() public {
        uint256 id = roundOfAB();
        // A valid proof of the same average, over the slots in the other order.
        Aggregate memory a = aggregateOf("ba", inOrder(clients[0], clients[1]));
        vm.expectRevert(
            abi.encodeWithSelector(
                ZKPoTAggregateInputMismatch.selector, 0, fixtures[A].weightsHash, fixtures[B].weightsHash
            )
        );
        publishAs(id, a);
    }

    function test_aChosenClientsModelIsRefused() public {
        uint256 id = roundOfAB();
        // A valid proof that model a is the average of a alone, for a round that also
        // accepted b: the mask selects one slot where two contributions stand.
        Aggregate memory a = aggregateOf("a_alone", inOrder(clients[0], clients[1]));
        vm.expectRevert(abi.encodeWithSelector(ZKPoTAggregateWrongMask.selector, 1));
        publishAs(id, a);
    }

    function test_theProofMustBeAboutThePublishedModel() public {
        uint256 id = roundOfAB();
        Aggregate memory a = aggregateOf("ab", inOrder(clients[0], clients[1]));
        bytes32 proven = a.modelHash;
        a.modelHash = fixtures[A].weightsHash;
        vm.expectRevert(abi.encodeWithSelector(ZKPoTAggregateModelMismatch.selector, fixtures[A].weightsHash, proven));
        publishAs(id, a);
    }

    function test_aModelOffTheAverageIsRefused() public {
        uint256 id = roundOfAB();
        // A valid proof whose model is one step off the average in one weight.
        Aggregate memory a = aggregateOf("nudged", inOrder(clients[0], clients[1]));
        vm.expectRevert(ZKPoTNotTheAverage.selector);
        publishAs(id, a);
        // Claiming `ok` anyway: the verifier refuses the instances.
        a.instances[0] = 1;
        vm.expectRevert(ZKPoTInvalidAggregationProof.selector);
        publishAs(id, a);
    }

    function test_aTamperedProofIsRefused() public {
        uint256 id = roundOfAB();
        Aggregate memory a = aggregateOf("ab", inOrder(clients[0], clients[1]));
        bytes memory proof = a.proof;
        proof[proof.length - 1] ^= 0x01;
        a.proof = proof;
        vm.expectRevert(ZKPoTInvalidAggregationProof.selector);
        publishAs(id, a);
        a = aggregateOf("ab", inOrder(clients[0], clients[1]));
        a.proof = prefix(a.proof, a.proof.length - 32);
        vm.expectRevert(
            abi.encodeWithSelector(ZKPoTWrongProofLength.selector, id, a.proof.length + 32, a.proof.length)
        );
        publishAs(id, a);
    }

    function test_theMaskAndInstancesAreChecked() public {
        uint256 id = roundOfAB();
        Aggregate memory a = aggregateOf("ab", inOrder(clients[0], clients[1]));
        uint256[] memory short = new uint256[](4);
        for (uint256 k = 0; k < 4; k++) {
            short[k] = a.instances[k];
        }
        a.instances = short;
        vm.expectRevert(abi.encodeWithSelector(ZKPoTMalformedAggregateInstances.selector, 5, 4));
        publishAs(id, a);
        a = aggregateOf("ab", inOrder(clients[0], clients[1]));
        a.instances[3] = 8192; // a third slot selected
        vm.expectRevert(abi.encodeWithSelector(ZKPoTAggregateWrongMask.selector, 2));
        publishAs(id, a);
        a = aggregateOf("ab", inOrder(clients[0], clients[1]));
        a.instances[2] = 2 * 8192; // unequal weights
        vm.expectRevert(abi.encodeWithSelector(ZKPoTAggregateWrongMask.selector, 1));
        publishAs(id, a);
    }

    function test_aRefusedAggregatorsRoundFallsBack() public {
        uint256 id = roundOfAB();
        bytes32 previous = zkpot.getTask(id).globalModelHash;
        Aggregate memory a = aggregateOf("nudged", inOrder(clients[0], clients[1]));
        vm.expectRevert(ZKPoTNotTheAverage.selector);
        publishAs(id, a);
        // The aggregator cannot publish a valid aggregate after its deadline either.
        pastAggregateDeadline(id);
        a = aggregateOf("ab", inOrder(clients[0], clients[1]));
        vm.expectRevert();
        publishAs(id, a);
        uint256 bond = zkpot.getTask(id).aggregatorBond;
        zkpot.closeRound(id, new address[](0));
        zkpot.finalizeWithoutAggregator(id);
        ZKPoT.Task memory t = zkpot.getTask(id);
        assertEq(t.globalModelHash, previous);
        assertEq(t.aggregatorBond, bond - AGG_PENALTY);
        assertEq(t.currentRound, 2);
    }
}
