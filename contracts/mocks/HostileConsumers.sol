// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPredictionConsumer} from "../interfaces/IPredictionConsumer.sol";
import {IPredictionEscrow} from "../interfaces/IPredictionEscrow.sol";
import {FulfillmentLib} from "../libraries/Fulfillment.sol";

/// @dev Requests with a callback on behalf of the tests; subclasses decide how to behave.
abstract contract TestConsumer is IPredictionConsumer {
    IPredictionEscrow public immutable escrow;

    constructor(IPredictionEscrow escrow_) {
        escrow = escrow_;
    }

    /// @dev What the last `request` returned.
    uint256 public requestedId;

    /// @dev Pays `msg.value` and accepts exactly that fee, with any deadline.
    function request(uint32 modelId, bytes calldata imageCid, uint32 callbackGasLimit)
        external
        payable
        returns (uint256)
    {
        requestedId = escrow.requestPredictionWithCallback{value: msg.value}(
            modelId, imageCid, callbackGasLimit, msg.value, type(uint40).max
        );
        return requestedId;
    }

    /// @dev `count` requests in one transaction, each paying `msg.value / count`.
    function requestMany(uint32 modelId, bytes calldata imageCid, uint32 callbackGasLimit, uint256 count)
        external
        payable
        returns (uint256[] memory requestIds)
    {
        requestIds = new uint256[](count);
        for (uint256 i; i < count; ++i) {
            requestIds[i] = escrow.requestPredictionWithCallback{value: msg.value / count}(
                modelId, imageCid, callbackGasLimit, msg.value / count, type(uint40).max
            );
        }
    }

    function withdrawTo(address to) external {
        escrow.withdraw(address(0), to);
    }
}

/// @dev Well-behaved: records what it was told.
contract RecordingConsumer is TestConsumer {
    uint256 public lastRequestId;
    bytes32 public lastDigest;
    uint16 public lastTopClass;
    uint16 public lastTopScore;
    uint256 public calls;

    constructor(IPredictionEscrow escrow_) TestConsumer(escrow_) {}

    function onPredictionResult(uint256 requestId, bytes32 digest, uint16 topClass, uint16 topScore) external {
        require(msg.sender == address(escrow), "not escrow");
        lastRequestId = requestId;
        lastDigest = digest;
        lastTopClass = topClass;
        lastTopScore = topScore;
        ++calls;
    }
}

/// @dev Always reverts, with a long reason.
contract RevertingConsumer is TestConsumer {
    constructor(IPredictionEscrow escrow_) TestConsumer(escrow_) {}

    function onPredictionResult(uint256, bytes32, uint16, uint16) external pure {
        revert("RevertingConsumer: no thanks, and here is a long reason string to be copied");
    }
}

/// @dev Burns every unit of gas it is given.
contract GasBurningConsumer is TestConsumer {
    constructor(IPredictionEscrow escrow_) TestConsumer(escrow_) {}

    function onPredictionResult(uint256, bytes32, uint16, uint16) external pure {
        // Burning gas is all this loop does.
        // solhint-disable-next-line no-empty-blocks
        while (true) {}
    }
}

/// @dev Returns (and, in a second mode, reverts with) as much data as its gas allows.
contract ReturnDataBombConsumer is TestConsumer {
    bool public revertInstead;

    constructor(IPredictionEscrow escrow_, bool revertInstead_) TestConsumer(escrow_) {
        revertInstead = revertInstead_;
    }

    function onPredictionResult(uint256, bytes32, uint16, uint16) external view {
        bool doRevert = revertInstead;
        // Only assembly returns or reverts with raw memory of any size.
        // solhint-disable-next-line no-inline-assembly
        assembly {
            // ~1 MB costs far more than any callback limit: memory expansion ends it
            // at the limit, so use the largest size the gas affords instead.
            let size := 200000
            if doRevert { revert(0, size) }
            return(0, size)
        }
    }
}

/// @dev Tries to re-enter the escrow from its callback, one entry point at a time, and
/// records how the escrow answered. In `strict` mode a failed re-entry reverts the callback.
contract ReentrantConsumer is TestConsumer {
    enum Target {
        RejectBatch,
        FulfillBatch,
        Reclaim,
        Withdraw,
        Request
    }

    Target public target;
    bool public strict;
    IPredictionEscrow.RequestTerms public victim;
    bool public reentered;
    bytes public lastError;
    uint256 public lastRequestId;

    constructor(IPredictionEscrow escrow_) TestConsumer(escrow_) {}

    receive() external payable {}

    function setAttack(Target target_, bool strict_, IPredictionEscrow.RequestTerms calldata terms) external {
        target = target_;
        strict = strict_;
        victim = terms;
    }

    function onPredictionResult(uint256, bytes32, uint16, uint16) external {
        bytes memory call_;
        uint256 value;
        if (target == Target.RejectBatch) {
            IPredictionEscrow.Rejection[] memory batch = new IPredictionEscrow.Rejection[](1);
            batch[0] = IPredictionEscrow.Rejection(victim, IPredictionEscrow.RejectReason.NotAnImage);
            call_ = abi.encodeCall(IPredictionEscrow.rejectBatch, (batch));
        } else if (target == Target.FulfillBatch) {
            IPredictionEscrow.Fulfillment[] memory batch = new IPredictionEscrow.Fulfillment[](1);
            batch[0] = IPredictionEscrow.Fulfillment(
                victim.requestId,
                FulfillmentLib.toRequesterAndFee(victim.requester, victim.fee),
                FulfillmentLib.toDetails(victim.modelId, victim.deadline, victim.callbackGasLimit, 0, 0),
                bytes32(0)
            );
            call_ = abi.encodeCall(IPredictionEscrow.fulfillBatch, (batch));
        } else if (target == Target.Reclaim) {
            call_ = abi.encodeCall(IPredictionEscrow.reclaim, (victim));
        } else if (target == Target.Withdraw) {
            call_ = abi.encodeCall(IPredictionEscrow.withdraw, (address(0), address(this)));
        } else {
            value = address(this).balance;
            call_ = abi.encodeCall(
                IPredictionEscrow.requestPrediction, (victim.modelId, hex"0155", value, type(uint40).max)
            );
        }
        (bool ok, bytes memory result) = address(escrow).call{value: value}(call_);
        if (!ok && strict) {
            // Re-raises the escrow's revert data unchanged.
            // solhint-disable-next-line no-inline-assembly
            assembly {
                revert(add(result, 0x20), mload(result))
            }
        }
        reentered = ok;
        if (ok) {
            if (target == Target.Request) lastRequestId = abi.decode(result, (uint256));
        } else {
            lastError = result;
        }
    }
}

/// @dev Records the gas its callback was given.
contract GasMeteringConsumer is TestConsumer {
    uint256 public gasAtEntry;

    constructor(IPredictionEscrow escrow_) TestConsumer(escrow_) {}

    function onPredictionResult(uint256, bytes32, uint16, uint16) external {
        gasAtEntry = gasleft();
    }
}

/// @dev Receives its withdrawal by trying to re-enter the escrow.
contract ReentrantReceiver is TestConsumer {
    constructor(IPredictionEscrow escrow_) TestConsumer(escrow_) {}

    // A callback that accepts the answer and does nothing.
    // solhint-disable-next-line no-empty-blocks
    function onPredictionResult(uint256, bytes32, uint16, uint16) external {}

    receive() external payable {
        escrow.withdraw(address(0), address(this));
    }
}

/// @dev A requester that cannot receive ETH: its refunds must be withdrawn elsewhere.
contract EthRejectingRequester is TestConsumer {
    constructor(IPredictionEscrow escrow_) TestConsumer(escrow_) {}

    // A callback that accepts the answer and does nothing.
    // solhint-disable-next-line no-empty-blocks
    function onPredictionResult(uint256, bytes32, uint16, uint16) external {}

    receive() external payable {
        revert("no ETH");
    }
}

/// @dev Cheap when simulated, ruinous when mined: `eth_estimateGas` without fee fields
/// runs with a zero base fee (geth and EDR alike), a mined transaction never does. So an
/// oracle that sizes its gas by estimation sees a callback that costs nothing, and the
/// mined batch finds it burning every unit of its limit. (A front-running transaction
/// that arms a consumer between estimate and inclusion has the same effect.)
contract EstimateDodgingBurner is TestConsumer {
    constructor(IPredictionEscrow escrow_) TestConsumer(escrow_) {}

    function onPredictionResult(uint256, bytes32, uint16, uint16) external view {
        if (block.basefee != 0) {
            // Burning gas is all this loop does.
            // solhint-disable-next-line no-empty-blocks
            while (true) {}
        }
    }
}
