// SPDX-License-Identifier: MIT
pragma solidity 0.8.20;

import {IZKPoTTypes} from "../interfaces/IZKPoTTypes.sol";

/// @title KeyArtefact
/// @notice Checks that a verification-key artefact (VKA) of ezkl's reusable Halo2
///         verifier (ezkl 23.0.5, contracts/verifier/Halo2VerifierReusable.sol) is in
///         canonical form, and reads the length of its circuit's proofs.
/// @dev The verifier reads some VKA words only modulo the BN254 scalar field (they go
///      through mulmod/addmod), some only through masks or shifts (pointers and
///      counts), and some as curve coordinates (checked by the precompiles). A word
///      replaced by an equivalent value (w + R, or w with ignored bits set) gives an
///      artefact with another keccak digest under which every proof of the first one
///      verifies. Every such word is pinned here to its one canonical value: scalars
///      below R, coordinates below Q, counts and pointers within the bits the verifier
///      reads and consistent with each other and with the artefact's length. The
///      layout (word i of the VKA lives at memory 0xa0 + 32 i in the verifier):
///      0 the vk digest (the transcript's first input), 1-5 counts (instances,
///      log2 n, evaluations, ...), 6-9 scalars (n^-1, omega, omega^-1, ...), 10-13
///      the accumulator flag and its fields, 14-23 the SRS points (G1, G2, -s G2),
///      24-32 proof and memory pointers, 33.. the challenge data (the low byte of
///      word 33 is its word count; then 24-bit entries: 16-bit bytes of the phase's
///      commitments, 8-bit challenge count), then the fixed and permutation
///      commitments and the constants up to the gate program, the permutation
///      program, the lookup program, the PCS program, and the rescaling data last.
///      The programs are packed bytecode whose unused bits the verifier ignores;
///      only their header words are pinned here. An artefact that differs from the
///      canonical one only in such bits still has the canonical word 0 (the vk
///      digest absorbed first into every proof's transcript: an artefact with
///      another word 0 accepts no proof of the circuit), and ZKPoT keys everything
///      that must be unique per circuit by that word, so such a twin opens no second
///      namespace for replays.
library KeyArtefact {
    /// @dev BN254 scalar field (the proof system's field) and base field.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev First word of the challenge data.
    uint256 private constant CHALLENGES = 33;
    /// @dev Calldata offset of a proof's first byte in verifyProof(bytes,uint256[],bytes32[]).
    uint256 private constant PROOF_START = 0x84;
    /// @dev Memory address of the VKA's word 0 in the verifier.
    uint256 private constant VKA_START = 0xa0;

    /// @notice Reverts unless `vka` is canonical; returns the length of its proofs:
    ///         the phases' commitments, 32 bytes per evaluation, and two final points.
    function checkCanonical(bytes32[] calldata vka) internal pure returns (uint256 proofLength) {
        uint256 length = vka.length;
        if (length <= CHALLENGES) revert IZKPoTTypes.ZKPoTMalformedKeyArtefact(length);
        // Scalars: the vk digest and n^-1, omega, omega^-1, omega^-l.
        _below(vka, 0, 1, R);
        _below(vka, 6, 10, R);
        // SRS points: precompiles refuse coordinates >= Q, pin them anyway.
        _below(vka, 14, 24, Q);
        // Counts and pointers: the verifier multiplies or masks them, so high bits vanish.
        _below(vka, 1, 6, 1 << 16);
        _below(vka, 24, 33, 1 << 16);
        // The accumulator flag is read for truth only; its fields matter only when set.
        uint256 hasAccumulator = uint256(vka[10]);
        if (hasAccumulator > 1) _refuse(vka, 10);
        if (hasAccumulator == 0) _below(vka, 11, 14, 1);

        (uint256 phases, uint256 commitments, uint256 lastPhase) = _challengeData(vka);
        proofLength = commitments + 0x20 * uint256(vka[3]) + 0x80;
        // The quotient commitments' calldata pointers follow from the phases.
        if (uint256(vka[25]) != PROOF_START + commitments - lastPhase) _refuse(vka, 25);
        if (uint256(vka[24]) != uint256(vka[25]) + lastPhase - 0x40) _refuse(vka, 24);

        // Programs: gate, permutation, lookup and PCS, in this order, then the rescaling data.
        uint256 gate = _programStart(vka, 26);
        uint256 permutation = _programStart(vka, 27);
        uint256 lookup = _programStart(vka, 28);
        uint256 pcs = _programStart(vka, 29);
        uint256 firstProgram = CHALLENGES + phases;
        bool ordered =
            firstProgram <= gate && gate < permutation && permutation < lookup && lookup < pcs && pcs < length;
        if (!ordered) _refuse(vka, 26);
        _checkRescalingData(vka, pcs);
        // Commitments and constants up to the gate program: all below R (a commitment's
        // coordinate at or above R would be a 2^-66 accident).
        _below(vka, firstProgram, gate, R);
        _checkProgramHeaders(vka, gate, permutation, lookup);
    }

    /// @dev The challenge data: number of words, bytes of all phases' commitments, and
    ///      of the last phase (the quotient). Each phase commits to a positive multiple
    ///      of 64 bytes (G1 points) and draws at least one challenge.
    function _challengeData(bytes32[] calldata vka)
        private
        pure
        returns (uint256 words, uint256 commitments, uint256 lastPhase)
    {
        words = uint256(vka[CHALLENGES]) & 0xff;
        if (words == 0 || CHALLENGES + words > vka.length) _refuse(vka, CHALLENGES);
        for (uint256 k = 0; k < words; k++) {
            uint256 entries = uint256(vka[CHALLENGES + k]) >> (k == 0 ? 8 : 0);
            if (entries == 0) _refuse(vka, CHALLENGES + k);
            // Bounded: a word holds at most ten 24-bit entries.
            while (entries != 0) {
                uint256 bytes_ = entries & 0xffff;
                uint256 challenges = (entries >> 16) & 0xff;
                if (bytes_ == 0 || bytes_ % 0x40 != 0 || challenges == 0) _refuse(vka, CHALLENGES + k);
                commitments += bytes_;
                lastPhase = bytes_;
                entries >>= 24;
            }
        }
    }

    /// @dev The word index where a program starts: words 26-29 hold the memory addresses
    ///      of the gate, permutation, lookup and PCS programs, word-aligned past the VKA's
    ///      start.
    function _programStart(bytes32[] calldata vka, uint256 word) private pure returns (uint256) {
        uint256 pointer = uint256(vka[word]);
        if (pointer < VKA_START || (pointer - VKA_START) % 0x20 != 0) _refuse(vka, word);
        return (pointer - VKA_START) / 0x20;
    }

    /// @dev Word 30 points at the rescaling data, which must be the artefact's tail:
    ///      its first byte counts its words.
    function _checkRescalingData(bytes32[] calldata vka, uint256 pcsStart) private pure {
        uint256 pointer = uint256(vka[30]);
        if (pointer < 0x20 || (pointer - 0x20) % 0x20 != 0) _refuse(vka, 30);
        uint256 start = (pointer - 0x20) / 0x20;
        if (start <= pcsStart || start >= vka.length) _refuse(vka, 30);
        if (start + (uint256(vka[start]) & 0xff) != vka.length) _refuse(vka, 30);
    }

    /// @dev The first word of each program is read through masks: no bits beyond them.
    function _checkProgramHeaders(bytes32[] calldata vka, uint256 gate, uint256 permutation, uint256 lookup)
        private
        pure
    {
        if (uint256(vka[gate]) % 0x20 != 0) _refuse(vka, gate);
        uint256 p = uint256(vka[permutation]);
        bool permutationOk = p >> 40 == 0 && ((p >> 8) & 0xffff) % 0x20 == 0 && ((p >> 24) & 0xffff) % 0x20 == 0;
        if (!permutationOk) _refuse(vka, permutation);
        uint256 l = uint256(vka[lookup]);
        if (l >> 24 != 0) _refuse(vka, lookup);
        if (l != 0 && (((l >> 16) & 0xff) > 1 || (l & 0xffff) != uint256(vka[29]))) _refuse(vka, lookup);
    }

    /// @dev Refuses any word in [from, to) that is not below `bound`.
    function _below(bytes32[] calldata vka, uint256 from, uint256 to, uint256 bound) private pure {
        for (uint256 i = from; i < to; i++) {
            if (uint256(vka[i]) >= bound) _refuse(vka, i);
        }
    }

    function _refuse(bytes32[] calldata vka, uint256 index) private pure {
        revert IZKPoTTypes.ZKPoTNonCanonicalKeyArtefact(index, vka[index]);
    }
}
