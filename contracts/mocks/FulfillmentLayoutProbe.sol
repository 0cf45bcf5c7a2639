// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPredictionEscrow} from "../interfaces/IPredictionEscrow.sol";
import {FulfillmentDetails, FulfillmentLib, RequesterAndFee} from "../libraries/Fulfillment.sol";

/// @dev Exposes FulfillmentLib so the layout test can check it against the off-chain
/// packer: every field read back both ways (the escrow's multi-field accessors and the
/// one-field ones), and the library's own constructors.
contract FulfillmentLayoutProbe {
    struct Fields {
        uint256 requestId;
        address requester;
        uint96 fee;
        uint32 modelId;
        uint40 deadline;
        uint32 callbackGasLimit;
        uint16 topClass;
        uint16 topScore;
        bytes32 resultDigest;
    }

    /// @dev As the escrow reads an item: `unpack`, `terms`, `topResult`.
    function read(IPredictionEscrow.Fulfillment calldata item) external pure returns (Fields memory f) {
        f.requestId = item.requestId;
        (f.requester, f.fee) = item.requesterAndFee.unpack();
        (f.modelId, f.deadline, f.callbackGasLimit) = item.details.terms();
        (f.topClass, f.topScore) = item.details.topResult();
        f.resultDigest = item.resultDigest;
    }

    /// @dev With the one-field accessors.
    function readEach(IPredictionEscrow.Fulfillment calldata item) external pure returns (Fields memory f) {
        RequesterAndFee requesterAndFee = item.requesterAndFee;
        FulfillmentDetails details = item.details;
        f.requestId = item.requestId;
        f.requester = requesterAndFee.requester();
        f.fee = requesterAndFee.fee();
        f.modelId = details.modelId();
        f.deadline = details.deadline();
        f.callbackGasLimit = details.callbackGasLimit();
        f.topClass = details.topClass();
        f.topScore = details.topScore();
        f.resultDigest = item.resultDigest;
    }

    /// @dev Packs with the library's constructors.
    function pack(Fields calldata f) external pure returns (IPredictionEscrow.Fulfillment memory) {
        return IPredictionEscrow.Fulfillment(
            f.requestId,
            FulfillmentLib.toRequesterAndFee(f.requester, f.fee),
            FulfillmentLib.toDetails(f.modelId, f.deadline, f.callbackGasLimit, f.topClass, f.topScore),
            f.resultDigest
        );
    }
}
