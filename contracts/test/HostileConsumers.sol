// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPredictionConsumer} from "../interfaces/IPredictionConsumer.sol";
import {IPredictionEscrow} from "../interfaces/IPredictionEscrow.sol";

/// @dev Requests with a callback on behalf of the tests; subclasses decide how to behave.
abstract contract TestConsumer is IPredictionConsumer {
    IPredictionEscrow public immutable escrow;

    constructor(IPredictionEscrow escrow_) {
        escrow = escrow_;
    }

    function request(uint32 modelId, bytes calldata imageCid, uint32 callbackGasLimit)
        external
        payable
        returns (uint256)
    {
        return escrow.requestPredictionWithCallback{value: msg.value}(modelId, imageCid, callbackGasLimit);
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
        assembly {
            // ~1 MB costs far more than any callback limit: memory expansion ends it
            // at the limit, so use the largest size the gas affords instead.
            let size := 200000
            if doRevert { revert(0, size) }
            return(0, size)
        }
    }
}

/// @dev Tries to re-enter the escrow from its callback.
contract ReentrantConsumer is TestConsumer {
    IPredictionEscrow.RequestTerms public victim;
    bool public reentered;

    constructor(IPredictionEscrow escrow_) TestConsumer(escrow_) {}

    function setVictim(IPredictionEscrow.RequestTerms calldata terms) external {
        victim = terms;
    }

    function onPredictionResult(uint256, bytes32, uint16, uint16) external {
        IPredictionEscrow.Rejection[] memory batch = new IPredictionEscrow.Rejection[](1);
        batch[0] = IPredictionEscrow.Rejection(victim, IPredictionEscrow.RejectReason.NotAnImage);
        escrow.rejectBatch(batch); // reverts: not an oracle, and the guard is held
        escrow.reclaim(victim);
        escrow.withdraw(address(0), address(this));
        reentered = true;
    }
}

/// @dev A requester that cannot receive ETH: its refunds must be withdrawn elsewhere.
contract EthRejectingRequester is TestConsumer {
    constructor(IPredictionEscrow escrow_) TestConsumer(escrow_) {}

    function onPredictionResult(uint256, bytes32, uint16, uint16) external {}

    receive() external payable {
        revert("no ETH");
    }
}
