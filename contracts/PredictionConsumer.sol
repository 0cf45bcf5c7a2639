// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IPredictionConsumer} from "./interfaces/IPredictionConsumer.sol";
import {IPredictionEscrow} from "./interfaces/IPredictionEscrow.sol";

/// @title PredictionConsumer
/// @notice Base of a contract that buys predictions with a callback: the escrow-only
/// callback, requests that name the fee they pay as their `maxFee`, and the refunds of
/// rejected or expired requests. A consumer implements `_onPredictionResult` and calls
/// `_requestPrediction` (see contracts/examples/CatBadge.sol).
/// @dev Holds no storage of its own, so it can come anywhere in an inheritance list.
/// Refunds are credited to this contract in the escrow, for all its requests together:
/// `_settleRefund` tells which request's refund is due, from the escrow's `statusOf`.
abstract contract PredictionConsumer is IPredictionConsumer {
    using SafeERC20 for IERC20;

    /// @notice The Argus escrow this contract pays and hears from.
    IPredictionEscrow public immutable escrow;

    /// @notice Only the escrow may deliver results and send refunds here.
    error NotEscrow();

    /// @dev Reverts NotEscrow for any caller but the escrow.
    modifier onlyEscrow() {
        if (msg.sender != address(escrow)) revert NotEscrow();
        _;
    }

    /// @notice Binds the consumer to one escrow.
    /// @param escrow_ The Argus escrow.
    constructor(IPredictionEscrow escrow_) {
        escrow = escrow_;
    }

    /// @inheritdoc IPredictionConsumer
    /// @dev Reverts NotEscrow for any other caller, then runs `_onPredictionResult`.
    function onPredictionResult(uint256 requestId, bytes32 resultDigest, uint16 topClass, uint16 topScore)
        external
        onlyEscrow
    {
        _onPredictionResult(requestId, resultDigest, topClass, topScore);
    }

    /// @notice Receives refunds withdrawn from the escrow, and nothing else.
    /// @dev Reverts NotEscrow for any other sender.
    receive() external payable virtual onlyEscrow {}

    /// @dev The answer to a request this contract made; only the escrow gets here, with
    /// the callback gas limit the request paid for. A revert only records CallbackFailed.
    function _onPredictionResult(uint256 requestId, bytes32 resultDigest, uint16 topClass, uint16 topScore)
        internal
        virtual;

    /// @dev What a request with `callbackGasLimit` costs now, and in which token
    /// (address(0): native). Show it to whoever pays, and pass it back as `fee`.
    function _quote(uint32 modelId, uint32 callbackGasLimit) internal view returns (address token, uint256 fee) {
        return escrow.quote(modelId, callbackGasLimit);
    }

    /// @dev Requests a prediction of a native-priced model with a callback, paying `fee`
    /// from this call's value or this contract's balance. `fee` is also the request's
    /// `maxFee`: pass the quote the payer saw (e.g. `msg.value`), so a price raised
    /// meanwhile reverts (FeeAboveMax) instead of charging more, and one lowered reverts
    /// IncorrectPayment. Reverts as the escrow's `requestPredictionWithCallback`.
    function _requestPrediction(
        uint32 modelId,
        bytes calldata imageCid,
        uint32 callbackGasLimit,
        uint256 fee,
        uint40 latestDeadline
    ) internal returns (uint256 requestId) {
        return escrow.requestPredictionWithCallback{value: fee}(
            modelId, imageCid, callbackGasLimit, fee, latestDeadline
        );
    }

    /// @dev As `_requestPrediction` for a token-priced model: approves the escrow for
    /// exactly `fee` of `token`, which this contract must hold, and the escrow pulls it.
    function _requestPredictionInToken(
        IERC20 token,
        uint32 modelId,
        bytes calldata imageCid,
        uint32 callbackGasLimit,
        uint256 fee,
        uint40 latestDeadline
    ) internal returns (uint256 requestId) {
        token.forceApprove(address(escrow), fee);
        return escrow.requestPredictionWithCallback(modelId, imageCid, callbackGasLimit, fee, latestDeadline);
    }

    /// @dev Where a request this contract made stands for a refund, reclaiming it first
    /// when it is pending past its deadline. Rejected or Expired: its fee was credited
    /// here and is due to whoever paid it. Pending: not yet. Fulfilled: never, even when
    /// its callback failed (the oracle earned the fee; refunding it would pay out another
    /// request's refund).
    function _settleRefund(IPredictionEscrow.RequestTerms calldata terms)
        internal
        returns (IPredictionEscrow.RequestStatus status)
    {
        status = escrow.statusOf(terms.requestId);
        if (status == IPredictionEscrow.RequestStatus.Pending && escrow.reclaim(terms)) {
            status = IPredictionEscrow.RequestStatus.Expired;
        }
    }

    /// @dev Moves this contract's refunds of `token` (address(0): native) out of the
    /// escrow to `to` (this contract, to pass them on itself); does nothing when there
    /// are none. Emits the escrow's Withdrawn.
    function _withdrawRefunds(address token, address to) internal {
        if (escrow.balanceOf(token, address(this)) != 0) escrow.withdraw(token, to);
    }
}
