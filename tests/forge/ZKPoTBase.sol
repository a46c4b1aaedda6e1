// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {Test} from "forge-std/Test.sol";
import {ZKPoT} from "../../contracts/ZKPoT.sol";
import {IZKPoTTypes} from "../../contracts/interfaces/IZKPoTTypes.sol";
import {Halo2VerifierReusable} from "../../contracts/verifier/Halo2VerifierReusable.sol";
import {ZKPoTUncheckedAggregates} from "./harness/ZKPoTUncheckedAggregates.sol";

/// @notice A real ezkl proof of the tests' tiny circuit (8 evaluation samples).
struct ProofFixture {
    string name;
    bytes proof;
    bytes32 weightsHash;
    uint256 correct;
}

/// @notice Loads the real proofs of tests/fixtures/tiny-proofs.json (written by
///         scripts/make_proof_fixtures.py) and the evaluation batches they are proven
///         on, deploys ezkl's reusable verifier with the circuit's key artefact and a
///         ZKPoT contract, and drives tasks through their phases (the publisher
///         revealing each round's batch).
abstract contract ZKPoTBase is Test, IZKPoTTypes {
    /// @dev Fixture indices: models a, b (a lower count) and a_twin (a's count, another
    ///      hash). A proof can be used once per circuit, so a test that runs several rounds
    ///      takes a fresh model per client and round from `fixtureFor`. Every fixture is
    ///      proven on batch 0 (round 1's batch), except `a_batch2` (index `aBatch2`).
    uint256 internal constant A = 0;
    uint256 internal constant B = 1;
    uint256 internal constant A_TWIN = 2;
    uint256 internal constant MAX_ROUNDS_OF_FIXTURES = 4;

    uint256 internal constant POOL = 30 ether;
    uint256 internal constant BOND = 3 ether;
    uint256 internal constant STAKE = 1 ether;
    uint256 internal constant PENALTY = 0.4 ether;
    uint256 internal constant AGG_PENALTY = 1 ether;
    uint32 internal constant REG_BLOCKS = 5;
    uint32 internal constant COMMIT_BLOCKS = 4;
    uint32 internal constant REVEAL_BLOCKS = 2;
    uint32 internal constant PROOF_BLOCKS = 6;
    uint32 internal constant AGG_BLOCKS = 3;
    uint32 internal constant ROUNDS = 3;
    uint16 internal constant LEADER_BPS = 2_000;
    string internal constant BATCH_CID = "bafkreibatch";

    ZKPoT internal zkpot;
    address internal verifier;
    bytes32[] internal vka;
    bytes32 internal vkaDigest;
    bytes32[] internal aggregationVka;
    bytes32 internal aggregationVkaDigest;
    uint32 internal evalSamples;
    uint32 internal minCorrect;
    ProofFixture[] internal fixtures;
    /// @dev The tiny circuit's evaluation batches, as their polynomial commitments (what
    ///      every proof on a batch begins with): index 0 is round 1's batch, on which every
    ///      fixture but `a_batch2` is proven; index 1 is round 2's, on which `a_batch2` is.
    bytes[] internal batches;
    /// @dev Index in `fixtures` of `a_batch2`: model a (a's weights hash) proven on batch 1.
    uint256 internal aBatch2;

    address internal publisher = makeAddr("publisher");
    address internal aggregator = makeAddr("aggregator");
    address[] internal clients;

    function setUp() public virtual {
        string memory json = vm.readFile("tests/fixtures/tiny-proofs.json");
        vka = vm.parseJsonBytes32Array(json, ".vka");
        vkaDigest = vm.parseJsonBytes32(json, ".vkaDigest");
        evalSamples = uint32(vm.parseJsonUint(json, ".evalSamples"));
        minCorrect = uint32(vm.parseJsonUint(json, ".minCorrect"));
        for (uint256 i = 0; vm.keyExistsJson(json, string.concat(".proofs[", vm.toString(i), "]")); i++) {
            string memory p = string.concat(".proofs[", vm.toString(i), "]");
            fixtures.push(
                ProofFixture({
                    name: vm.parseJsonString(json, string.concat(p, ".name")),
                    proof: vm.parseJsonBytes(json, string.concat(p, ".proof")),
                    weightsHash: vm.parseJsonBytes32(json, string.concat(p, ".weightsHash")),
                    correct: vm.parseJsonUint(json, string.concat(p, ".correct"))
                })
            );
        }
        batches.push(vm.parseJsonBytes(json, ".batchCommitments[0]"));
        batches.push(vm.parseJsonBytes(json, ".batchCommitments[1]"));
        aBatch2 = fixtureNamed("a_batch2");
        aggregationVka = vm.parseJsonBytes32Array(json, ".aggregation.vka");
        aggregationVkaDigest = vm.parseJsonBytes32(json, ".aggregation.vkaDigest");
        verifier = address(new Halo2VerifierReusable());
        zkpot = deployZKPoT();
        zkpot.registerCircuit(vka);
        zkpot.registerCircuit(aggregationVka);

        vm.deal(publisher, 1_000 ether);
        for (uint256 i = 0; i < 4; i++) {
            address c = makeAddr(string.concat("client", vm.toString(i)));
            clients.push(c);
            vm.deal(c, 100 ether);
        }
    }

    /// @dev The contract under test: by default ZKPoT without the aggregation proof's
    ///      check (see ZKPoTUncheckedAggregates), so that a test may publish any model.
    function deployZKPoT() internal virtual returns (ZKPoT) {
        return new ZKPoTUncheckedAggregates(verifier);
    }

    /// @dev The fixture client `i` (0..2) proves in `round` (1..4): round 1 is a, b and
    ///      a_twin; later rounds take unused variants of the same or similar models
    ///      (clients 0 and 1 always reach the default threshold; client 2's round-4
    ///      model is the untrained one, count 0).
    function fixtureFor(uint256 i, uint256 round) internal view returns (uint256) {
        string[4][3] memory plan = [
            ["a", "a_twin1", "a_twin2", "c_twin2"],
            ["b", "b_twin1", "b_twin2", "b_twin3"],
            ["a_twin", "c", "c_twin1", "init"]
        ];
        return fixtureNamed(plan[i][round - 1]);
    }

    function fixtureNamed(string memory name) internal view returns (uint256) {
        for (uint256 k = 0; k < fixtures.length; k++) {
            if (keccak256(bytes(fixtures[k].name)) == keccak256(bytes(name))) return k;
        }
        revert(string.concat("no fixture ", name));
    }

    // ----------------------------------------------------------------- tasks

    function defaultConfig() internal view returns (TaskConfig memory c) {
        c.vkaDigest = vkaDigest;
        c.aggregationVkaDigest = aggregationVkaDigest;
        c.aggregator = aggregator;
        c.aggregatorKey = bytes32(uint256(1));
        c.evalSamples = evalSamples;
        c.minCorrect = minCorrect;
        c.maxClients = 4;
        c.numRounds = ROUNDS;
        c.registrationBlocks = REG_BLOCKS;
        c.commitBlocks = COMMIT_BLOCKS;
        c.revealBlocks = REVEAL_BLOCKS;
        c.proofBlocks = PROOF_BLOCKS;
        c.aggregateBlocks = AGG_BLOCKS;
        c.leaderShareBps = LEADER_BPS;
        c.minStake = STAKE;
        c.missedProofPenalty = PENALTY;
        c.aggregatorBond = BOND;
        c.aggregatorPenalty = AGG_PENALTY;
        c.initialModelHash = keccak256("initial model");
        c.initialModelCid = "bafkreiinitial";
        c.circuitCid = "bafkreicircuit";
        c.batchCommitments = sealedBatches(ROUNDS);
    }

    // ----------------------------------------------------------------- evaluation batches

    /// @dev The publisher's salt for the batch commitment of `round`.
    function batchSalt(uint256 round) internal pure returns (bytes32) {
        return keccak256(abi.encode("batch salt", round));
    }

    /// @dev The hiding commitment to batch `batch` (an index of `batches`) under the salt
    ///      of `round`, as `TaskConfig.batchCommitments` holds it.
    function sealedBatch(uint256 batch, uint256 round) internal view returns (bytes32) {
        return keccak256(abi.encode(keccak256(batches[batch]), batchSalt(round)));
    }

    /// @dev One batch commitment per round, rounds 1..`rounds`, each to batch 0 (the
    ///      batch of the fixtures' proofs) under its round's salt. A test that changes
    ///      `numRounds` resets `batchCommitments` with it.
    function sealedBatches(uint32 rounds) internal view returns (bytes32[] memory commitments) {
        commitments = new bytes32[](rounds);
        for (uint256 r = 0; r < rounds; r++) {
            commitments[r] = sealedBatch(0, r + 1);
        }
    }

    /// @dev Puts parameter `which` (0..19, in the contract's order of checks) out of range
    ///      with a fuzzed bad value and returns its name; any other `which` breaks nothing.
    function breakParameter(TaskConfig memory c, uint256 which, uint256 seed) internal pure returns (string memory) {
        if (which == 0) c.vkaDigest = bytes32(0);
        if (which == 1) c.aggregator = address(0);
        if (which == 2) c.evalSamples = 0;
        if (which == 3) c.minCorrect = uint32(bound(seed, uint256(c.evalSamples) + 1, type(uint32).max));
        if (which == 4) c.maxClients = 0;
        if (which == 5) c.numRounds = 0;
        if (which == 6) c.registrationBlocks = 0;
        if (which == 7) c.commitBlocks = 0;
        if (which == 8) c.revealBlocks = 0;
        if (which == 9) c.proofBlocks = 0;
        if (which == 10) c.aggregateBlocks = 0;
        if (which == 11) c.leaderShareBps = uint16(bound(seed, 10_001, type(uint16).max));
        if (which == 12) c.minStake = 0;
        if (which == 13) c.missedProofPenalty = bound(seed, c.minStake + 1, type(uint256).max);
        if (which == 14) c.aggregatorPenalty = bound(seed, c.aggregatorBond + 1, type(uint256).max);
        if (which == 15) {
            if (seed % 2 == 0) c.initialModelHash = bytes32(0);
            else c.initialModelCid = "";
        }
        if (which == 16) c.circuitCid = "";
        if (which == 17) {
            // Any other number of commitments than rounds: none, fewer or more.
            uint256 length = bound(seed, 0, uint256(c.numRounds) + 2);
            if (length == c.numRounds) length = c.numRounds + 1;
            bytes32[] memory wrong = new bytes32[](length);
            for (uint256 i = 0; i < length; i++) {
                wrong[i] = i < c.batchCommitments.length ? c.batchCommitments[i] : keccak256(abi.encode(seed, i));
            }
            c.batchCommitments = wrong;
        }
        // A dispute window or bond in an immediate task, or none in an optimistic one.
        if (which == 18) c.disputeBlocks = c.optimistic ? 0 : uint32(bound(seed, 1, type(uint32).max));
        if (which == 19) c.disputeBond = c.optimistic ? 0 : bound(seed, 1, type(uint256).max);
        string[20] memory names = [
            "vkaDigest",
            "aggregator",
            "evalSamples",
            "minCorrect",
            "maxClients",
            "numRounds",
            "registrationBlocks",
            "commitBlocks",
            "revealBlocks",
            "proofBlocks",
            "aggregateBlocks",
            "leaderShareBps",
            "minStake",
            "missedProofPenalty",
            "aggregatorPenalty",
            "initialModel",
            "circuitCid",
            "batchCommitments",
            "disputeBlocks",
            "disputeBond"
        ];
        return which < names.length ? names[which] : "";
    }

    /// @dev The record a task starts its chain with: round 0, the initial model.
    function genesisRecord(uint256 id, TaskConfig memory c) internal view returns (RoundRecord memory) {
        return RoundRecord({
            taskId: id,
            round: 0,
            prevRecordHash: bytes32(0),
            leader: address(0),
            leaderCorrect: 0,
            acceptedCount: 0,
            contributionsRoot: bytes32(0),
            globalModelHash: c.initialModelHash,
            globalModelCid: c.initialModelCid,
            aggregator: publisher,
            aggregationProofHash: bytes32(0)
        });
    }

    function createTask(TaskConfig memory c, uint256 pool) internal returns (uint256 id) {
        vm.prank(publisher);
        id = zkpot.createTask{value: pool + c.aggregatorBond}(c);
    }

    function createTask() internal returns (uint256) {
        return createTask(defaultConfig(), POOL);
    }

    /// @dev A default task with every client registered, at the start of round 1.
    function startedTask() internal returns (uint256 id) {
        id = createTask();
        for (uint256 i = 0; i < clients.length; i++) {
            register(id, clients[i]);
        }
        vm.roll(zkpot.getTask(id).startBlock);
    }

    function register(uint256 id, address client) internal {
        vm.prank(client);
        zkpot.register{value: STAKE}(id);
    }

    function roundOf(uint256 id) internal view returns (uint256 round, ZKPoT.Round memory r) {
        round = zkpot.getTask(id).currentRound;
        r = zkpot.getRound(id, round);
    }

    // ----------------------------------------------------------------- phases

    /// @dev The publisher reveals batch `batch` (an index of `batches`) for the current
    ///      round, with that round's salt, first rolling to the reveal window if the
    ///      commit phase is still on.
    function revealBatch(uint256 id, uint256 batch) internal {
        (uint256 round, ZKPoT.Round memory r) = roundOf(id);
        if (block.number <= r.commitEnd) vm.roll(r.commitEnd + 1);
        vm.prank(zkpot.getTask(id).publisher);
        zkpot.revealBatch(id, round, batches[batch], batchSalt(round), BATCH_CID);
    }

    /// @dev The publisher reveals the current round's batch (batch 0, the fixtures').
    function revealBatch(uint256 id) internal {
        revealBatch(id, 0);
    }

    /// @dev Reveals the current round's batch if it is not yet revealed and still may be:
    ///      the publisher is honest unless a test says otherwise.
    function revealIfDue(uint256 id) internal {
        (, ZKPoT.Round memory r) = roundOf(id);
        if (r.status == RoundStatus.Open && r.batchDigest == bytes32(0) && block.number <= r.revealEnd) {
            revealBatch(id);
        }
    }

    /// @dev To the first block of the proof phase (commitEnd + 1), the batch revealed:
    ///      proofs are taken from then on, once the batch is out.
    function toProofPhase(uint256 id) internal {
        (, ZKPoT.Round memory r) = roundOf(id);
        if (block.number <= r.commitEnd) vm.roll(r.commitEnd + 1);
        revealIfDue(id);
    }

    /// @dev Past the proof phase (the batch revealed first if it was not).
    function toAggregatePhase(uint256 id) internal {
        revealIfDue(id);
        (, ZKPoT.Round memory r) = roundOf(id);
        vm.roll(r.proofEnd + 1);
    }

    /// @dev Past the aggregate deadline (the batch revealed first if it was not).
    function pastAggregateDeadline(uint256 id) internal {
        revealIfDue(id);
        (, ZKPoT.Round memory r) = roundOf(id);
        vm.roll(r.aggregateEnd + 1);
    }

    /// @dev Past the reveal window of the current round, its batch never revealed.
    function pastRevealWindow(uint256 id) internal {
        (, ZKPoT.Round memory r) = roundOf(id);
        vm.roll(r.revealEnd + 1);
    }

    // ----------------------------------------------------------------- contributions

    function saltOf(address client, uint256 round) internal pure returns (bytes32) {
        return keccak256(abi.encode("salt", client, round));
    }

    function commitTo(uint256 id, address client, uint256 fixture) internal {
        (uint256 round,) = roundOf(id);
        bytes32 commitment = zkpot.commitmentOf(client, id, round, fixtures[fixture].weightsHash, saltOf(client, round));
        vm.prank(client);
        zkpot.commit(id, round, commitment);
    }

    function submission(uint256 fixture, bytes32 salt) internal view returns (Submission memory s) {
        ProofFixture storage f = fixtures[fixture];
        s.proof = f.proof;
        s.instances = new uint256[](1);
        s.instances[0] = f.correct;
        s.claimedCorrect = f.correct;
        s.salt = salt;
        s.sealedWeightsCid = "bafkreisealed";
    }

    /// @dev `data[start:start + length]`, for memory bytes.
    function slice(bytes memory data, uint256 start, uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i = 0; i < length; i++) {
            out[i] = data[start + i];
        }
    }

    function submissionFor(uint256 id, address client, uint256 fixture) internal view returns (Submission memory) {
        (uint256 round,) = roundOf(id);
        return submission(fixture, saltOf(client, round));
    }

    function submitFor(uint256 id, address client, uint256 fixture) internal {
        (uint256 round,) = roundOf(id);
        Submission memory s = submissionFor(id, client, fixture);
        vm.prank(client);
        zkpot.submitProof(id, round, s);
    }

    /// @dev Clients 0..n-1 commit to the given models, prove them, and the round reaches
    ///      its aggregate phase.
    function playRound(uint256 id, uint256[] memory chosen) internal {
        for (uint256 i = 0; i < chosen.length; i++) {
            commitTo(id, clients[i], chosen[i]);
        }
        toProofPhase(id);
        for (uint256 i = 0; i < chosen.length; i++) {
            submitFor(id, clients[i], chosen[i]);
        }
        toAggregatePhase(id);
    }

    function publish(uint256 id, bytes32 modelHash, string memory cid) internal {
        (uint256 round,) = roundOf(id);
        vm.prank(aggregator);
        zkpot.publishGlobalModel(id, round, unproven(modelHash, cid));
    }

    /// @dev An aggregate without a proof: what ZKPoTUncheckedAggregates accepts.
    function unproven(bytes32 modelHash, string memory cid) internal pure returns (Aggregate memory a) {
        a.modelHash = modelHash;
        a.cid = cid;
    }

    /// @dev The first `length` bytes of `data`.
    function prefix(bytes memory data, uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i = 0; i < length; i++) {
            out[i] = data[i];
        }
    }

    /// @dev The fixtures proven on batch 0 (all but `a_batch2`, which shares a's hash).
    function batchZeroFixtures() internal view returns (ProofFixture[] memory out) {
        out = new ProofFixture[](fixtures.length - 1);
        uint256 n;
        for (uint256 k = 0; k < fixtures.length; k++) {
            if (k != aBatch2) out[n++] = fixtures[k];
        }
    }

    /// @dev A client's tie-break key under a round's seed: lower keys win ties.
    function tieKey(bytes32 seed, address client) internal pure returns (bytes32) {
        return keccak256(abi.encode(seed, client));
    }

    function models(uint256 a) internal pure returns (uint256[] memory m) {
        m = new uint256[](1);
        m[0] = a;
    }

    function models(uint256 a, uint256 b) internal pure returns (uint256[] memory m) {
        m = new uint256[](2);
        m[0] = a;
        m[1] = b;
    }

    function models(uint256 a, uint256 b, uint256 c) internal pure returns (uint256[] memory m) {
        m = new uint256[](3);
        m[0] = a;
        m[1] = b;
        m[2] = c;
    }
}
