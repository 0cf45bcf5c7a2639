// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPredictionConsumer
/// @notice Implemented by contracts that request predictions with a callback.
/// @dev The escrow calls `onPredictionResult` with exactly the gas limit the consumer
/// paid for and ignores any return data. A revert or an out-of-gas is recorded as
/// `CallbackFailed` and never undoes the fulfilment: the result stays queryable through
/// the `PredictionFulfilled` event. Consumers must check that `msg.sender` is the escrow.
///
/// WARNING: refunds are never pushed. The fee of a request the operator rejects, or one
/// reclaimed after its deadline, is credited to the requesting contract's balance in the
/// escrow, and only that contract can move it (`IPredictionEscrow.withdraw`). A consumer
/// without a function that calls `withdraw` strands every refund for ever. One that
/// refunds its own users must decide from `IPredictionEscrow.statusOf` (Rejected or
/// Expired), never from "not pending": a fulfilled request whose callback failed is not
/// pending either, and refunding it would pay out someone else's refund.
interface IPredictionConsumer {
    /// @notice Delivers the answer to a request this contract made.
    /// @param requestId The id returned by `requestPredictionWithCallback`.
    /// @param resultDigest sha256 of the canonical result JSON; its IPFS CID is
    /// CIDv1(raw, sha2-256, resultDigest).
    /// @param topClass Class index of the top prediction (for detectors, of the
    /// highest-scoring box; 65535 when nothing was detected).
    /// @param topScore Score of the top prediction in basis points (0..10000).
    function onPredictionResult(uint256 requestId, bytes32 resultDigest, uint16 topClass, uint16 topScore)
        external;
}
