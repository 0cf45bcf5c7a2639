// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice A request's requester and fee, packed into one word of a `fulfillBatch` item
/// (`IPredictionEscrow.Fulfillment.requesterAndFee`). Layout in `FulfillmentLib`.
type RequesterAndFee is uint256;

/// @notice The rest of a request's terms and the answer's top result, packed into one
/// word of a `fulfillBatch` item (`IPredictionEscrow.Fulfillment.details`). Layout in
/// `FulfillmentLib`.
type FulfillmentDetails is uint256;

using FulfillmentLib for RequesterAndFee global;
using FulfillmentLib for FulfillmentDetails global;

/// @title FulfillmentLib
/// @notice The one home of the packed layout of a `fulfillBatch` item: every packing and
/// unpacking of its words on-chain goes through here. (Off-chain, `packFulfillment` and
/// `unpackFulfillment` in contracts/client/src/request-terms.ts mirror it; the layout
/// test checks the two agree.)
/// @dev An item is four calldata words:
///
///     word 0  requestId            uint256: the block number (a uint64) in bits 159..96, 96 hash
///                                  bits below it (`_newRequestId`)
///     word 1  RequesterAndFee      requester (bits 255..96) | fee (bits 95..0)
///     word 2  FulfillmentDetails   see below
///     word 3  resultDigest         bytes32
///
///     FulfillmentDetails, bit 255                                                  bit 0
///     | modelId 32 | deadline 40 | callbackGasLimit 32 | zero 120 | topClass 16 | topScore 16 |
///       255..224     223..184      183..152              151..32    31..16        15..0
///
/// Why packed: the escrow stores a request as one hash of its terms (requester, modelId,
/// fee, deadline, callbackGasLimit), so each settlement must present them again, and
/// calldata is the largest per-item cost of a batch (16 gas a non-zero byte, 4 a zero
/// byte). ABI-encoding the nine fields would take nine words; packed they take four.
/// Why this arrangement:
/// - Each field is exactly as wide as its type in `RequestTerms` and the commitment, so
///   no value can be truncated in transit, and requester (160) + fee (96) fill one word.
/// - While block numbers stay below 2^32 (every chain for decades yet), request ids stay
///   below 2^128, so word 0 is half zero bytes too.
/// - A field at the top of its word (requester, modelId) is read with one shift, one at
///   the bottom (fee, topScore) with one mask; the others take a shift and a mask.
/// - The unused 120 bits lie between the terms and the top result and are zero: zero
///   bytes are the cheap kind of calldata. Readers ignore them.
/// - topClass is the top prediction's class index (65535: nothing detected) and topScore
///   its score in basis points (0..10000); they sit in the low bits, where the callback's
///   two uint16 arguments are read from.
///
/// Reading: `unpack`, `terms` and `topResult` decode several fields in one call; the
/// one-field accessors are conveniences over them. The escrow's hot path uses only the
/// multi-field ones: under the legacy code generator this project compiles with, the
/// optimizer inlines those completely, whereas each one-field call left a jump and a
/// stack shuffle behind (measured: +33 gas a fulfilled item in `npm run bench:gas`, +61
/// with a callback).
/// Accessors narrow by casting, which the compiler does lazily: in assembly a returned
/// value may still carry dirty high bits (see `_commitment` in PredictionEscrow).
library FulfillmentLib {
    /// @dev Bit offsets of the fields of a `RequesterAndFee`.
    uint256 internal constant REQUESTER_OFFSET = 96;
    uint256 internal constant FEE_OFFSET = 0;

    /// @dev Bit offsets of the fields of a `FulfillmentDetails`.
    uint256 internal constant MODEL_ID_OFFSET = 224;
    uint256 internal constant DEADLINE_OFFSET = 184;
    uint256 internal constant CALLBACK_GAS_LIMIT_OFFSET = 152;
    uint256 internal constant TOP_CLASS_OFFSET = 16;
    uint256 internal constant TOP_SCORE_OFFSET = 0;

    // ----------------------------------------------------------- RequesterAndFee

    /// @notice Packs a request's requester and fee.
    /// @param requester_ The requester.
    /// @param fee_ Its fee.
    /// @return The packed word.
    function toRequesterAndFee(address requester_, uint96 fee_) internal pure returns (RequesterAndFee) {
        return RequesterAndFee.wrap((uint256(uint160(requester_)) << REQUESTER_OFFSET) | (uint256(fee_) << FEE_OFFSET));
    }

    /// @notice Both fields at once: what the escrow's hot path calls (see the note above).
    /// @param packed The word.
    /// @return requester_ The requester.
    /// @return fee_ Its fee.
    function unpack(RequesterAndFee packed) internal pure returns (address requester_, uint96 fee_) {
        uint256 word = RequesterAndFee.unwrap(packed);
        return (address(uint160(word >> REQUESTER_OFFSET)), uint96(word >> FEE_OFFSET));
    }

    function requester(RequesterAndFee packed) internal pure returns (address requester_) {
        (requester_,) = unpack(packed);
    }

    function fee(RequesterAndFee packed) internal pure returns (uint96 fee_) {
        (, fee_) = unpack(packed);
    }

    // -------------------------------------------------------- FulfillmentDetails

    /// @notice Packs the rest of a request's terms and the answer's top result; the
    /// unused bits are zero.
    /// @param modelId_ The request's model.
    /// @param deadline_ Its deadline.
    /// @param callbackGasLimit_ Its callback gas limit.
    /// @param topClass_ The top prediction's class index (65535: nothing detected).
    /// @param topScore_ Its score in basis points (0..10000; not checked here).
    function toDetails(
        uint32 modelId_,
        uint40 deadline_,
        uint32 callbackGasLimit_,
        uint16 topClass_,
        uint16 topScore_
    ) internal pure returns (FulfillmentDetails) {
        return FulfillmentDetails.wrap(
            (uint256(modelId_) << MODEL_ID_OFFSET) | (uint256(deadline_) << DEADLINE_OFFSET)
                | (uint256(callbackGasLimit_) << CALLBACK_GAS_LIMIT_OFFSET) | (uint256(topClass_) << TOP_CLASS_OFFSET)
                | (uint256(topScore_) << TOP_SCORE_OFFSET)
        );
    }

    /// @notice The request-term fields at once: what the escrow's hot path calls.
    /// @param packed The word.
    /// @return modelId_ The request's model.
    /// @return deadline_ Its deadline.
    /// @return callbackGasLimit_ Its callback gas limit.
    function terms(FulfillmentDetails packed)
        internal
        pure
        returns (uint32 modelId_, uint40 deadline_, uint32 callbackGasLimit_)
    {
        uint256 word = FulfillmentDetails.unwrap(packed);
        return (
            uint32(word >> MODEL_ID_OFFSET), uint40(word >> DEADLINE_OFFSET), uint32(word >> CALLBACK_GAS_LIMIT_OFFSET)
        );
    }

    /// @notice The answer's top class and score at once, as the consumer callback takes them.
    /// @param packed The word.
    /// @return topClass_ The top prediction's class index.
    /// @return topScore_ Its score in basis points.
    function topResult(FulfillmentDetails packed) internal pure returns (uint16 topClass_, uint16 topScore_) {
        uint256 word = FulfillmentDetails.unwrap(packed);
        return (uint16(word >> TOP_CLASS_OFFSET), uint16(word >> TOP_SCORE_OFFSET));
    }

    function modelId(FulfillmentDetails packed) internal pure returns (uint32 modelId_) {
        (modelId_,,) = terms(packed);
    }

    function deadline(FulfillmentDetails packed) internal pure returns (uint40 deadline_) {
        (, deadline_,) = terms(packed);
    }

    function callbackGasLimit(FulfillmentDetails packed) internal pure returns (uint32 callbackGasLimit_) {
        (,, callbackGasLimit_) = terms(packed);
    }

    function topClass(FulfillmentDetails packed) internal pure returns (uint16 topClass_) {
        (topClass_,) = topResult(packed);
    }

    function topScore(FulfillmentDetails packed) internal pure returns (uint16 topScore_) {
        (, topScore_) = topResult(packed);
    }
}
