// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPredictionEscrow} from "../interfaces/IPredictionEscrow.sol";
import {FulfillmentLib} from "../libraries/Fulfillment.sol";

/// @dev A requester operating the model that settles its own request in the transaction
/// that made it: the fastest possible settlement, in the request's own block.
contract SameBlockSettler {
    IPredictionEscrow public immutable escrow;

    constructor(IPredictionEscrow escrow_) {
        escrow = escrow_;
    }

    receive() external payable {}

    /// @dev A native request without a callback, settled at once: rejected, or fulfilled.
    function requestAndSettle(uint32 modelId, bytes calldata imageCid, bool fulfil) external payable {
        uint256 requestId = escrow.requestPrediction{value: msg.value}(modelId, imageCid, msg.value, type(uint40).max);
        IPredictionEscrow.RequestTerms memory terms = IPredictionEscrow.RequestTerms({
            requestId: requestId,
            requester: address(this),
            modelId: modelId,
            fee: uint96(msg.value),
            deadline: uint40(block.timestamp) + escrow.getModel(modelId).responseWindow,
            callbackGasLimit: 0
        });
        if (fulfil) {
            IPredictionEscrow.Fulfillment[] memory batch = new IPredictionEscrow.Fulfillment[](1);
            batch[0] = IPredictionEscrow.Fulfillment(
                requestId,
                FulfillmentLib.toRequesterAndFee(address(this), terms.fee),
                FulfillmentLib.toDetails(modelId, terms.deadline, 0, 281, 9000),
                keccak256(imageCid)
            );
            escrow.fulfillBatch(batch);
        } else {
            IPredictionEscrow.Rejection[] memory batch = new IPredictionEscrow.Rejection[](1);
            batch[0] = IPredictionEscrow.Rejection(terms, IPredictionEscrow.RejectReason.NotAnImage);
            escrow.rejectBatch(batch);
        }
    }

    function request(uint32 modelId, bytes calldata imageCid) external payable {
        escrow.requestPrediction{value: msg.value}(modelId, imageCid, msg.value, type(uint40).max);
    }
}
