// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

/// @title IZKPoTTypes
/// @notice The types, custom errors and events of the ZKPoT consensus contract:
///         everything a client or an auditor decodes. IZKPoT adds the functions.
interface IZKPoTTypes {
    // ------------------------------------------------------------------ TYPES

    /// @notice Lifecycle of a task.
    enum TaskStatus {
        None,
        Active,
        Completed,
        Cancelled
    }

    /// @notice Lifecycle of a round.
    enum RoundStatus {
        None,
        Open,
        Closed,
        Finalized
    }

    /// @notice Where a task stands at the current block (see `phase`).
    enum Phase {
        None,
        Registration,
        Commit,
        Reveal,
        RevealMissed,
        Prove,
        Dispute,
        Aggregate,
        AggregationOverdue,
        Completed,
        Cancelled
    }

    /// @notice What a publisher fixes when creating a task. Amounts in wei.
    /// @param vkaDigest keccak256 of the task's verification-key artefact words, as
    ///        registered with `registerCircuit` (which checks the artefact is canonical
    ///        and fixes the circuit's proof length).
    /// @param aggregationVkaDigest The key artefact digest of the task's aggregation
    ///        circuit (also registered with `registerCircuit`): a global model is
    ///        accepted only with a proof under it that the model is the FedAvg of the
    ///        round's accepted contributions. Its contribution slots are `maxClients`.
    /// @param aggregator Account that publishes each round's global model.
    /// @param aggregatorKey X25519 public key to which clients seal their weights.
    /// @param evalSamples Size of each round's evaluation batch.
    /// @param minCorrect Correct predictions a contribution needs to be accepted.
    /// @param maxClients Most clients that may register.
    /// @param numRounds Number of rounds.
    /// @param registrationBlocks Blocks from creation until round 1 opens.
    /// @param commitBlocks Blocks of each round's commit phase.
    /// @param revealBlocks Blocks after the commit phase in which the publisher must
    ///        reveal the round's evaluation batch (`revealBatch`).
    /// @param proofBlocks Blocks of each round's proof phase, after the reveal window.
    /// @param aggregateBlocks Blocks the aggregator has to publish, after the proof phase
    ///        (immediate) or after the answers to challenges (optimistic).
    /// @param optimistic How the task's proofs are checked on chain. Immediate (false):
    ///        every proof runs through the verifier when submitted. Optimistic (true):
    ///        a submission records a claim (the proof's hash; its bytes in the content
    ///        store) and the verifier runs only on a disputed claim, in the round's
    ///        dispute window; the leader and rewards are fixed after it.
    /// @param disputeBlocks Optimistic mode: blocks of the dispute window after the proof
    ///        phase, and again of the answer window after it (for challenges to a claim
    ///        whose proof nobody could fetch). Zero in immediate mode.
    /// @param leaderShareBps Share of a round's reward paid to its leader on top of its
    ///        contributor share, in basis points.
    /// @param minStake Stake a client deposits, at least, to register.
    /// @param missedProofPenalty Stake slashed from a client that commits but never proves,
    ///        and forfeited once, as a registration bond, by a client that leaves or
    ///        releases its stake in a task that started without ever having proved
    ///        (or been slashed).
    ///        Must be positive.
    /// @param aggregatorBond Bond for the aggregator, posted by the publisher (part of msg.value).
    /// @param aggregatorPenalty Bond slashed each time the aggregator misses its deadline,
    ///        or the publisher misses a reveal.
    /// @param disputeBond Optimistic mode: what a dispute posts (`msg.value`); it goes to
    ///        the client if the disputed proof is valid, back to the disputer with the
    ///        client's stake if not. Zero in immediate mode.
    /// @param initialModelHash Weights hash of the initial global model (keccak256 of its KZG commitment).
    /// @param initialModelCid Content identifier of the initial global model.
    /// @param circuitCid Content identifier of the task's circuit package (the ONNX
    ///        evaluation circuit without any evaluation data, its settings, the SRS and
    ///        the model shape): clients rebuild the keys from it and check them
    ///        against `vkaDigest`.
    /// @param batchCommitments One per round, in round order: the publisher's hiding
    ///        commitment to the round's evaluation batch,
    ///        keccak256(abi.encode(batchDigest, salt)), where batchDigest is the
    ///        keccak256 of the batch's polynomial commitment as every proof on it
    ///        begins (see `revealBatch`).
    struct TaskConfig {
        bytes32 vkaDigest;
        bytes32 aggregationVkaDigest;
        address aggregator;
        bytes32 aggregatorKey;
        uint32 evalSamples;
        uint32 minCorrect;
        uint32 maxClients;
        uint32 numRounds;
        uint32 registrationBlocks;
        uint32 commitBlocks;
        uint32 revealBlocks;
        uint32 proofBlocks;
        uint32 aggregateBlocks;
        bool optimistic;
        uint32 disputeBlocks;
        uint16 leaderShareBps;
        uint256 minStake;
        uint256 missedProofPenalty;
        uint256 aggregatorBond;
        uint256 aggregatorPenalty;
        uint256 disputeBond;
        bytes32 initialModelHash;
        string initialModelCid;
        string circuitCid;
        bytes32[] batchCommitments;
    }

    /// @notice A proof of accuracy and what goes with it.
    /// @param proof The ezkl proof bytes: they begin with the KZG commitment to the
    ///        weights (64 bytes; its keccak256 is the weights hash), then the batch's.
    /// @param instances The public instances `[correctCount]`.
    /// @param claimedCorrect The count the client claims; must equal `instances[0]`.
    /// @param salt The salt of the sender's commitment.
    /// @param sealedWeightsCid CID of the weights encrypted to the aggregator's key.
    struct Submission {
        bytes proof;
        uint256[] instances;
        uint256 claimedCorrect;
        bytes32 salt;
        string sealedWeightsCid;
    }

    /// @notice An optimistic-mode contribution: a claim that a proof exists, recorded
    ///         without running the verifier (`submitClaim`).
    /// @param weightsHash The weights hash the proof reveals (keccak256 of the KZG
    ///        commitment its first 64 bytes hold); it must open the sender's commitment.
    /// @param proofHash keccak256 of the proof bytes: a dispute must bring bytes with this
    ///        hash.
    /// @param claimedCorrect The proven count, the proof's public instance.
    /// @param salt The salt of the sender's commitment.
    /// @param sealedWeightsCid CID of the weights encrypted to the aggregator's key.
    /// @param proofCid CID of the proof bytes in the content store.
    struct Claim {
        bytes32 weightsHash;
        bytes32 proofHash;
        uint256 claimedCorrect;
        bytes32 salt;
        string sealedWeightsCid;
        string proofCid;
    }

    /// @notice A global model and the proof that it is the FedAvg of the round's
    ///         accepted contributions (`publishGlobalModel`).
    /// @param modelHash Weights hash of the global model (keccak256 of its KZG
    ///        commitment): the aggregation proof's input after the contribution slots.
    /// @param cid Content identifier of the global model.
    /// @param accepted The clients of the round's accepted contributions, in the order
    ///        of its contributions root (submission order): the proof's slots hold their
    ///        weights in this order.
    /// @param proof The ezkl proof of the task's aggregation circuit: it begins with
    ///        the KZG commitments of its inputs, one per contribution slot (`maxClients`
    ///        of them), then the global model's, then the mask's.
    /// @param instances The public instances `[ok, mask_0, ..., mask_{maxClients-1}]`:
    ///        `ok` is 1 when the model is the average of the masked slots; the mask is
    ///        as many equal non-zero entries as accepted contributions, then zeros.
    struct Aggregate {
        bytes32 modelHash;
        string cid;
        address[] accepted;
        bytes proof;
        uint256[] instances;
    }

    /// @notice A round record, one "ZKPoT block". Its hash is
    ///         keccak256(abi.encode(record)); the records of a task form a hash chain
    ///         from round 0 (the initial model) on.
    /// @param taskId The task.
    /// @param round The round (0 for the task's genesis record).
    /// @param prevRecordHash Hash of the previous round's record (zero for round 0).
    /// @param leader The round's leader, or zero when no contribution was accepted.
    /// @param leaderCorrect The leader's verified count of correct predictions.
    /// @param acceptedCount Number of accepted contributions.
    /// @param contributionsRoot Fold of the accepted contributions that stand, in the
    ///        order they were submitted: r = keccak256(abi.encode(r, client, weightsHash,
    ///        correct)), from r = 0.
    /// @param globalModelHash Weights hash of the global model after this round.
    /// @param globalModelCid Content identifier of that model.
    /// @param aggregator Who published that model: the aggregator, or zero when the
    ///        previous model was kept (no accepted contribution, or a missed deadline).
    /// @param aggregationProofHash keccak256 of the aggregation proof the model was
    ///        accepted with (zero when the previous model was kept).
    struct RoundRecord {
        uint256 taskId;
        uint32 round;
        bytes32 prevRecordHash;
        address leader;
        uint32 leaderCorrect;
        uint32 acceptedCount;
        bytes32 contributionsRoot;
        bytes32 globalModelHash;
        string globalModelCid;
        address aggregator;
        bytes32 aggregationProofHash;
    }

    /// @notice A task's fixed parameters (first block) and running state (second
    ///         block), as `getTask` returns it. Amounts in wei.
    /// @param publisher The account that created the task; refunds are credited to it.
    /// @param aggregator See `TaskConfig`.
    /// @param vkaDigest See `TaskConfig`.
    /// @param circuitKey Word 0 of the key artefact (the circuit's vk digest), by which
    ///        replayed and stale models are recorded.
    /// @param proofLength Length in bytes of the circuit's proofs.
    /// @param aggregationVkaDigest See `TaskConfig`.
    /// @param aggregationProofLength Length in bytes of the aggregation circuit's proofs.
    /// @param evalSamples See `TaskConfig`.
    /// @param minCorrect See `TaskConfig`.
    /// @param maxClients See `TaskConfig`.
    /// @param numRounds See `TaskConfig`.
    /// @param commitBlocks See `TaskConfig`.
    /// @param revealBlocks See `TaskConfig`.
    /// @param proofBlocks See `TaskConfig`.
    /// @param aggregateBlocks See `TaskConfig`.
    /// @param optimistic See `TaskConfig`.
    /// @param disputeBlocks See `TaskConfig`.
    /// @param leaderShareBps See `TaskConfig`.
    /// @param startBlock The block in which round 1 opens (registration ends).
    /// @param minStake See `TaskConfig`.
    /// @param missedProofPenalty See `TaskConfig`.
    /// @param aggregatorPenalty See `TaskConfig`.
    /// @param disputeBond See `TaskConfig`.
    /// @param status The task's lifecycle status.
    /// @param currentRound The latest round opened.
    /// @param clientCount Registered clients.
    /// @param rewardPool What is left to pay the rounds still to close.
    /// @param aggregatorBond What is left of the aggregator's bond.
    /// @param totalStake The registered clients' stakes, summed.
    /// @param unclaimedRewards Rewards fixed at the close of rounds and not claimed yet.
    /// @param heldBonds Bonds of challenges still open (awaiting the proof's bytes).
    /// @param globalModelHash Weights hash of the current global model.
    /// @param headRecord Hash of the task's latest round record.
    /// @param globalModelCid Content identifier of the current global model.
    struct Task {
        address publisher;
        address aggregator;
        bytes32 vkaDigest;
        bytes32 circuitKey;
        uint32 proofLength;
        bytes32 aggregationVkaDigest;
        uint32 aggregationProofLength;
        uint32 evalSamples;
        uint32 minCorrect;
        uint32 maxClients;
        uint32 numRounds;
        uint32 commitBlocks;
        uint32 revealBlocks;
        uint32 proofBlocks;
        uint32 aggregateBlocks;
        bool optimistic;
        uint32 disputeBlocks;
        uint16 leaderShareBps;
        uint64 startBlock;
        uint256 minStake;
        uint256 missedProofPenalty;
        uint256 aggregatorPenalty;
        uint256 disputeBond;
        TaskStatus status;
        uint32 currentRound;
        uint32 clientCount;
        uint256 rewardPool;
        uint256 aggregatorBond;
        uint256 totalStake;
        uint256 unclaimedRewards;
        uint256 heldBonds;
        bytes32 globalModelHash;
        bytes32 headRecord;
        string globalModelCid;
    }

    /// @notice A round's schedule, outcome and rewards, as `getRound` returns it.
    /// @param status The round's lifecycle status.
    /// @param openBlock First block of the commit phase.
    /// @param commitEnd Last block of the commit phase.
    /// @param revealEnd Last block in which the publisher may reveal the round's batch.
    /// @param proofEnd Last block of the proof phase.
    /// @param disputeEnd Last block of the dispute window (`proofEnd` in immediate mode).
    /// @param answerEnd Last block in which a challenged claim's proof may be brought
    ///        (`proofEnd` in immediate mode).
    /// @param aggregateEnd Last block in which the aggregator may publish.
    /// @param leader The best accepted contribution's client so far (zero: none).
    /// @param leaderCorrect The leader's verified count.
    /// @param acceptedCount Accepted contributions that stand (not struck by a dispute).
    /// @param committedCount Commitments.
    /// @param provedCount Contributions submitted (verified proofs, or claims), accepted or not.
    /// @param openChallenges Challenges awaiting a proof's bytes.
    /// @param contributionsRoot Fold of the accepted contributions (see `RoundRecord`).
    /// @param leaderBonus The leader's bonus, fixed at close.
    /// @param contributorReward Each accepted contribution's reward: its share at close
    ///        plus its share of any aggregator penalty.
    /// @param tieBreakSeed The seed that breaks ties in the count, drawn when the
    ///        round's batch is revealed.
    /// @param batchDigest keccak256 of the revealed batch's polynomial commitment
    ///        (zero: not revealed); every proof of the round must begin with it.
    /// @param batchLength Length in bytes of that commitment in a proof.
    struct Round {
        RoundStatus status;
        uint64 openBlock;
        uint64 commitEnd;
        uint64 revealEnd;
        uint64 proofEnd;
        uint64 disputeEnd;
        uint64 answerEnd;
        uint64 aggregateEnd;
        address leader;
        uint32 leaderCorrect;
        uint32 acceptedCount;
        uint32 committedCount;
        uint32 provedCount;
        uint32 openChallenges;
        bytes32 contributionsRoot;
        uint256 leaderBonus;
        uint256 contributorReward;
        bytes32 tieBreakSeed;
        bytes32 batchDigest;
        uint32 batchLength;
    }

    /// @notice A registered client of a task, as `getMember` returns it.
    /// @param registered Whether the client is registered (false again once it left).
    /// @param bondSettled Set once one of its proofs verified, it was slashed for a
    ///        missed proof, or it committed in a round whose batch was never revealed:
    ///        then leaving forfeits nothing more.
    /// @param pendingRound The round in which it committed and has not proved yet (zero: none).
    /// @param claimRound The round of its latest optimistic claim: until that round
    ///        closes the claim can be disputed, and the stake stays in.
    /// @param stake Its stake, in wei.
    struct Member {
        bool registered;
        bool bondSettled;
        uint32 pendingRound;
        uint32 claimRound;
        uint256 stake;
    }

    /// @notice A client's commitment and contribution in a round, as `getContribution`
    ///         returns it.
    /// @param commitment The salted commitment (zero: none).
    /// @param weightsHash The weights hash its proof revealed.
    /// @param correct The proven (or, unverified, claimed) count of correct predictions.
    /// @param submitted Whether a proof verified or a claim was recorded.
    /// @param accepted Whether the count reached the task's `minCorrect` and stands.
    /// @param rewardClaimed Whether its reward was claimed.
    /// @param verified Whether its proof ran through the verifier and passed.
    /// @param struck Whether a dispute struck it from the round.
    /// @param index Its place among the round's submissions (from 1).
    /// @param challenger Who challenged the claim and awaits its proof (zero: nobody).
    /// @param proofHash keccak256 of the claimed proof's bytes (zero in immediate mode).
    struct Contribution {
        bytes32 commitment;
        bytes32 weightsHash;
        uint32 correct;
        bool submitted;
        bool accepted;
        bool rewardClaimed;
        bool verified;
        bool struck;
        uint32 index;
        address challenger;
        bytes32 proofHash;
    }

    /// @notice A registered key artefact: the circuit it keys (its word 0, the vk digest
    ///         that opens every proof's transcript, so every artefact that accepts the
    ///         circuit's proofs has the same one) and the length of its proofs.
    /// @param key Word 0 of the artefact.
    /// @param proofLength Length in bytes of the circuit's proofs (zero: not registered).
    struct Circuit {
        bytes32 key;
        uint32 proofLength;
    }

    // ------------------------------------------------------------------ ERRORS

    /// @notice The verifier given at deployment has no code.
    error ZKPoTVerifierWithoutCode(address verifier);
    /// @notice No task has this id.
    error ZKPoTUnknownTask(uint256 taskId);
    /// @notice A task parameter is out of range (named by `parameter`).
    error ZKPoTInvalidTaskParameter(string parameter);
    /// @notice The value sent does not cover the aggregator bond.
    error ZKPoTInsufficientFunding(uint256 sent, uint256 required);
    /// @notice Only the task's publisher may do this.
    error ZKPoTNotPublisher(uint256 taskId, address caller);
    /// @notice Only the task's aggregator may do this.
    error ZKPoTNotAggregator(uint256 taskId, address caller);
    /// @notice The task is not running (it completed, or was cancelled).
    error ZKPoTTaskNotActive(uint256 taskId, TaskStatus status);
    /// @notice Registration and cancellation end when round 1 opens at `startBlock`.
    error ZKPoTRegistrationClosed(uint256 taskId, uint256 blockNumber, uint256 startBlock);
    /// @notice The sender is already registered for the task.
    error ZKPoTAlreadyRegistered(uint256 taskId, address client);
    /// @notice The task has its maximum number of clients.
    error ZKPoTTaskFull(uint256 taskId, uint256 maxClients);
    /// @notice The stake sent is below the task's minimum.
    error ZKPoTStakeTooLow(uint256 sent, uint256 minStake);
    /// @notice The sender is not a registered client of the task, or its stake fell
    ///         below the minimum through slashing.
    error ZKPoTNotEligible(uint256 taskId, address client, uint256 stake);
    /// @notice The call names a round other than the task's current one.
    error ZKPoTWrongRound(uint256 taskId, uint256 round, uint256 currentRound);
    /// @notice A commitment outside the commit phase `[opensAt, closesAt]`.
    error ZKPoTNotInCommitPhase(uint256 taskId, uint256 round, uint256 blockNumber, uint256 opensAt, uint256 closesAt);
    /// @notice A proof outside the proof phase `[opensAt, closesAt]`.
    error ZKPoTNotInProofPhase(uint256 taskId, uint256 round, uint256 blockNumber, uint256 opensAt, uint256 closesAt);
    /// @notice A global model outside the aggregate phase `[opensAt, closesAt]`.
    error ZKPoTNotInAggregatePhase(
        uint256 taskId, uint256 round, uint256 blockNumber, uint256 opensAt, uint256 closesAt
    );
    /// @notice A commitment must not be zero (zero marks "no commitment").
    error ZKPoTEmptyCommitment(address client);
    /// @notice The sender already committed in this round.
    error ZKPoTAlreadyCommitted(uint256 taskId, uint256 round, address client);
    /// @notice The sender made no commitment in this round.
    error ZKPoTNoCommitment(uint256 taskId, uint256 round, address client);
    /// @notice The sender already submitted a proof in this round.
    error ZKPoTAlreadySubmitted(uint256 taskId, uint256 round, address client);
    /// @notice The revealed weights hash and salt do not open the sender's commitment.
    error ZKPoTCommitmentMismatch(address client, bytes32 expected, bytes32 actual);
    /// @notice A model with this weights hash was already submitted in this task, or
    ///         under this circuit (in any task) no later than this round's commit end,
    ///         when the sender could have copied it: a proof can be used once.
    error ZKPoTDuplicateModel(uint256 taskId, uint256 round, bytes32 weightsHash);
    /// @notice The weights are a global model published under this circuit (an initial
    ///         model or an aggregate) no later than this round's commit end: handing it
    ///         back is not a training contribution. A model published after the sender's
    ///         commitment was locked cannot make it stale.
    error ZKPoTStaleModel(uint256 taskId, uint256 round, bytes32 weightsHash);
    /// @notice The public instances are not `[correctCount]`.
    error ZKPoTMalformedInstances(uint256 length);
    /// @notice The claimed count of correct predictions is not the proof's public output.
    error ZKPoTClaimMismatch(uint256 claimed, uint256 proven);
    /// @notice The proven count exceeds the size of the evaluation set.
    error ZKPoTCountOutOfRange(uint256 proven, uint256 evalSamples);
    /// @notice The verifier rejected the proof.
    error ZKPoTProofRejected(uint256 taskId, address client);
    /// @notice The round's proof phase has not ended yet.
    error ZKPoTRoundNotOver(uint256 taskId, uint256 round, uint256 blockNumber, uint256 endsAt);
    /// @notice The round is not in the status this call needs.
    error ZKPoTWrongRoundStatus(uint256 taskId, uint256 round, RoundStatus status);
    /// @notice No contribution was accepted this round, so there is nothing to aggregate.
    error ZKPoTNothingToAggregate(uint256 taskId, uint256 round);
    /// @notice A global model needs a non-zero hash and a non-empty CID.
    error ZKPoTEmptyModel();
    /// @notice The aggregator's deadline `aggregateEnd` has not passed yet.
    error ZKPoTAggregationNotOverdue(uint256 taskId, uint256 round, uint256 blockNumber, uint256 aggregateEnd);
    /// @notice The aggregate's list of clients is not the round's accepted contributions
    ///         in the order of its contributions root.
    error ZKPoTWrongAcceptedList(uint256 taskId, uint256 round);
    /// @notice The aggregation proof's public instances are not `[ok, mask]`
    ///         (`1 + maxClients` of them).
    error ZKPoTMalformedAggregateInstances(uint256 expected, uint256 length);
    /// @notice Contribution slot `slot` of the aggregation proof does not hold the
    ///         accepted weights `expected` (`proven`: the hash of what it holds).
    error ZKPoTAggregateInputMismatch(uint256 slot, bytes32 expected, bytes32 proven);
    /// @notice The aggregation proof is about another global model than the one
    ///         published.
    error ZKPoTAggregateModelMismatch(bytes32 published, bytes32 proven);
    /// @notice The aggregation proof's mask does not select exactly the accepted
    ///         contributions' slots (entry `slot` is wrong).
    error ZKPoTAggregateWrongMask(uint256 slot);
    /// @notice The aggregation proof shows the global model is not the average of
    ///         the accepted contributions (its `ok` instance is not 1).
    error ZKPoTNotTheAverage();
    /// @notice The aggregation proof does not verify under the task's aggregation key.
    error ZKPoTInvalidAggregationProof();
    /// @notice The client has no unpunished missed proof.
    error ZKPoTNoFault(uint256 taskId, address client);
    /// @notice Stakes are released only once the task completed or was cancelled.
    error ZKPoTStakeLocked(uint256 taskId, TaskStatus status);
    /// @notice The sender has no stake to release in this task.
    error ZKPoTNoStake(uint256 taskId, address client);
    /// @notice The sender has no reward in this round (no accepted contribution, or the
    ///         round is not finalised yet).
    error ZKPoTNoReward(uint256 taskId, uint256 round, address client);
    /// @notice The sender already claimed its reward for this round.
    error ZKPoTAlreadyClaimed(uint256 taskId, uint256 round, address client);
    /// @notice The sender has nothing to withdraw.
    error ZKPoTNothingToWithdraw(address account);
    /// @notice Sending ETH to the recipient failed.
    error ZKPoTTransferFailed(address to, uint256 amount);
    /// @notice Word `index` of a verification-key artefact is not in canonical form (a
    ///        field element not reduced, or a pointer word with bits the verifier
    ///        ignores): an equivalent artefact would have another digest.
    error ZKPoTNonCanonicalKeyArtefact(uint256 index, bytes32 word);
    /// @notice A verification-key artefact's header is inconsistent with its length.
    error ZKPoTMalformedKeyArtefact(uint256 length);
    /// @notice A task names a key artefact digest that was never registered with
    ///        `registerCircuit`.
    error ZKPoTUnknownCircuit(bytes32 vkaDigest);
    /// @notice A submitted proof does not have the circuit's proof length.
    error ZKPoTWrongProofLength(uint256 taskId, uint256 expected, uint256 actual);
    /// @notice The sender is not a registered client of the task.
    error ZKPoTNotRegistered(uint256 taskId, address client);
    /// @notice The sender committed in `round` and that round's proof phase is not over,
    ///         or its claim in that (still open) round can still be disputed.
    error ZKPoTProofPending(uint256 taskId, address client, uint256 round);
    /// @notice A reveal outside the round's reveal window `[opensAt, closesAt]`.
    error ZKPoTNotInRevealWindow(
        uint256 taskId, uint256 round, uint256 blockNumber, uint256 opensAt, uint256 closesAt
    );
    /// @notice The revealed batch commitment and salt do not open the round's batch
    ///         commitment fixed at the task's creation (or the reveal is empty).
    error ZKPoTBatchMismatch(uint256 taskId, uint256 round, bytes32 expected, bytes32 actual);
    /// @notice The round's batch was revealed already.
    error ZKPoTBatchAlreadyRevealed(uint256 taskId, uint256 round);
    /// @notice A proof before the round's evaluation batch was revealed.
    error ZKPoTBatchNotRevealed(uint256 taskId, uint256 round);
    /// @notice The proof was made on another batch than the round's revealed one.
    error ZKPoTWrongBatch(uint256 taskId, uint256 round, bytes32 expected, bytes32 actual);

    /// @notice The call is for the other verification mode than the task's.
    error ZKPoTWrongVerificationMode(uint256 taskId, bool optimistic);
    /// @notice The client's contribution cannot be disputed: there is none, its proof
    ///         already verified, it was struck, or a challenge to it is open.
    error ZKPoTNotDisputable(uint256 taskId, uint256 round, address client);
    /// @notice A dispute after the round's dispute window, which closed at `closesAt`.
    error ZKPoTNotInDisputeWindow(uint256 taskId, uint256 round, uint256 blockNumber, uint256 closesAt);
    /// @notice A dispute must post exactly the task's dispute bond.
    error ZKPoTWrongDisputeBond(uint256 sent, uint256 required);
    /// @notice The proof bytes brought to a dispute are not the claimed ones.
    error ZKPoTProofHashMismatch(bytes32 expected, bytes32 actual);
    /// @notice No challenge to the client's claim is open.
    error ZKPoTNoChallenge(uint256 taskId, uint256 round, address client);
    /// @notice Challenges still await a proof's bytes: the round cannot close yet.
    error ZKPoTChallengesOpen(uint256 taskId, uint256 round, uint256 open);
    /// @notice The list of standing contributions given to close an optimistic round is
    ///         not the round's accepted contributions that stand, in submission order:
    ///         entry `position` is wrong (or, at the list's length, entries are missing).
    error ZKPoTWrongStanding(uint256 taskId, uint256 round, uint256 position);
    /// @notice A stake top-up must send some ETH.
    error ZKPoTEmptyTopUp();

    // ------------------------------------------------------------------ EVENTS

    /// @notice A task was created; round 1 opens at `startBlock`.
    event TaskCreated(
        uint256 indexed taskId, address indexed publisher, TaskConfig config, uint256 rewardPool, uint256 startBlock
    );
    /// @notice The publisher cancelled the task before it started; `refund` was credited to it.
    event TaskCancelled(uint256 indexed taskId, uint256 refund);
    /// @notice A client registered with `stake`.
    event ClientRegistered(uint256 indexed taskId, address indexed client, uint256 stake);
    /// @notice A round opened: commits in `[openBlock, commitEnd]`, the batch's reveal
    ///         until `revealEnd`, proofs (once revealed) until `proofEnd`, disputes of
    ///         optimistic claims until `disputeEnd` and answers to challenges until
    ///         `answerEnd` (both `proofEnd` in an immediate task), the global model
    ///         until `aggregateEnd` (all inclusive).
    event RoundOpened(
        uint256 indexed taskId,
        uint256 indexed round,
        bytes32 globalModelHash,
        uint256 openBlock,
        uint256 commitEnd,
        uint256 revealEnd,
        uint256 proofEnd,
        uint256 disputeEnd,
        uint256 answerEnd,
        uint256 aggregateEnd
    );
    /// @notice The publisher revealed the round's evaluation batch: its polynomial
    ///         commitment's digest (every proof of the round begins with that
    ///         commitment) and where to fetch the batch.
    event BatchRevealed(uint256 indexed taskId, uint256 indexed round, bytes32 batchDigest, string batchCid);
    /// @notice The publisher missed the round's reveal: `penalty` left the bond and each
    ///         of the round's committed clients may claim `each` (`claimReward`).
    event RevealMissed(uint256 indexed taskId, uint256 indexed round, uint256 penalty, uint256 each);
    /// @notice A client committed to its weights (hidden behind a salted hash).
    event Committed(uint256 indexed taskId, uint256 indexed round, address indexed client, bytes32 commitment);
    /// @notice A proof verified on chain; `accepted` if the count reached the threshold.
    event ContributionVerified(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed client,
        bytes32 weightsHash,
        uint256 correct,
        bool accepted,
        string sealedWeightsCid
    );
    /// @notice An optimistic-mode claim was recorded without running the verifier; its
    ///         proof (`proofHash`, bytes at `proofCid`) may be disputed until the round's
    ///         `disputeEnd`. `accepted` if the claimed count reaches the threshold.
    event ContributionClaimed(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed client,
        bytes32 weightsHash,
        uint256 correct,
        bool accepted,
        string sealedWeightsCid,
        bytes32 proofHash,
        string proofCid
    );
    /// @notice `disputer` challenged a claim without bringing its proof (nobody could
    ///         fetch it): the proof's bytes must be brought by the round's `answerEnd`
    ///         (`settleChallenge`), or the claim is struck.
    event ClaimChallenged(
        uint256 indexed taskId, uint256 indexed round, address indexed client, address disputer, uint256 answerEnd
    );
    /// @notice A disputed proof verified: the contribution stands and `bond` was credited
    ///         to its client.
    event DisputeRejected(
        uint256 indexed taskId, uint256 indexed round, address indexed client, address disputer, uint256 bond
    );
    /// @notice A disputed proof was invalid (or never brought): the contribution was
    ///         struck from the round and its client's whole stake `slashed`: the
    ///         disputer was credited `paid` (half of it) and its bond back, the rest
    ///         went to the reward pool.
    event ContributionStruck(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed client,
        address disputer,
        uint256 slashed,
        uint256 paid
    );
    /// @notice A client added `amount` to its stake, now `stake`.
    event StakeToppedUp(uint256 indexed taskId, address indexed client, uint256 amount, uint256 stake);
    /// @notice A round closed: `leader` (zero if none) and the rewards it earned, to claim.
    ///         `tieBreakSeed` decided ties in the count: among equal counts the lowest
    ///         keccak256(abi.encode(tieBreakSeed, client)) leads.
    event RoundClosed(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed leader,
        uint256 leaderCorrect,
        uint256 acceptedCount,
        uint256 leaderBonus,
        uint256 contributorReward,
        bytes32 tieBreakSeed
    );
    /// @notice A round was finalised: its record appended to the task's chain.
    event RoundRecorded(uint256 indexed taskId, uint256 indexed round, bytes32 indexed recordHash, RoundRecord record);
    /// @notice The task ran its last round; the pool's remainder and the aggregator's
    ///         bond (`refund`) were credited to the publisher.
    event TaskCompleted(uint256 indexed taskId, bytes32 finalRecordHash, bytes32 finalModelHash, uint256 refund);
    /// @notice A client's stake was slashed for committing in `round` and never proving.
    event ClientSlashed(uint256 indexed taskId, uint256 indexed round, address indexed client, uint256 amount);
    /// @notice The aggregator missed its deadline in `round`; `amount` of its bond was shared
    ///         among the round's accepted contributions (division dust to the pool).
    ///         `contributorReward` is each accepted contribution's final reward (its share
    ///         at close plus its share of the penalty), as `claimReward` pays it (the
    ///         leader also gets the `leaderBonus` of RoundClosed).
    event AggregatorSlashed(
        uint256 indexed taskId,
        uint256 indexed round,
        address indexed aggregator,
        uint256 amount,
        uint256 contributorReward
    );
    /// @notice A client that neither proved nor was slashed in the task forfeited
    ///         `amount` of its stake (the registration bond) when it left or released it.
    event StakeForfeited(uint256 indexed taskId, address indexed client, uint256 amount);
    /// @notice A client left the task between rounds, with no proof pending; its stake
    ///         was released (less any forfeit). Before round 1 its slot is free again.
    event ClientLeft(uint256 indexed taskId, address indexed client);
    /// @notice A verification-key artefact was found canonical and registered, here and
    ///         on the verifier; proofs of its circuit are `proofLength` bytes long.
    event CircuitRegistered(bytes32 indexed vkaDigest, uint256 proofLength, address registrant);
    /// @notice A client's accepted contribution was paid `amount` (credited, to withdraw).
    event RewardClaimed(uint256 indexed taskId, uint256 indexed round, address indexed client, uint256 amount);
    /// @notice A client's stake was released (credited, to withdraw).
    event StakeReleased(uint256 indexed taskId, address indexed client, uint256 amount);
    /// @notice `account` withdrew `amount` of its credit.
    event Withdrawn(address indexed account, uint256 amount);
}
