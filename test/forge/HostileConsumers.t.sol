// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CatBadge} from "../../contracts/examples/CatBadge.sol";
import {IPredictionEscrow} from "../../contracts/interfaces/IPredictionEscrow.sol";
import {
    GasBurningConsumer,
    ReentrantConsumer,
    RevertingConsumer,
    TestConsumer
} from "../../contracts/mocks/HostileConsumers.sol";
import {EscrowTest} from "./EscrowTest.sol";

/// @dev A consumer whose callback reverts, burns all its gas or re-enters the escrow
/// cannot block settlement: its request is fulfilled, the oracle is paid, and the
/// well-behaved consumer in the same batch gets its answer.
contract HostileConsumersTest is EscrowTest {
    uint32 internal constant CALLBACK_GAS = 200_000;
    address internal constant SUBMITTER = address(0x5B1);

    function _request(TestConsumer consumer) internal returns (IPredictionEscrow.RequestTerms memory) {
        (, uint256 fee) = escrow.quote(classifierId, CALLBACK_GAS);
        uint256 requestId = consumer.request{value: fee}(classifierId, hex"01551220bad0", CALLBACK_GAS);
        return _terms(requestId, address(consumer), fee, CALLBACK_GAS);
    }

    function test_HostileCallbacksDoNotBlockTheBatch() public {
        ReentrantConsumer reentrant = new ReentrantConsumer(escrow);
        CatBadge badge = new CatBadge(escrow, classifierId, 6_000);
        VM.deal(address(this), 1 ether);
        VM.deal(SUBMITTER, 1 ether);

        IPredictionEscrow.RequestTerms[] memory batch = new IPredictionEscrow.RequestTerms[](4);
        batch[0] = _request(new RevertingConsumer(escrow));
        batch[1] = _request(new GasBurningConsumer(escrow));
        batch[2] = _request(reentrant);
        uint256 badgeFee = badge.quote();
        VM.prank(SUBMITTER);
        uint256 badgeRequest = badge.submit{value: badgeFee}(hex"01551220ca75", type(uint40).max);
        batch[3] = _terms(badgeRequest, address(badge), badgeFee, badge.CALLBACK_GAS_LIMIT());
        // The re-entrant one tries to settle the badge's request from inside its callback.
        reentrant.setAttack(ReentrantConsumer.Target.FulfillBatch, true, batch[3]);

        _fulfil(batch, 281, 9_500);

        uint256 total;
        for (uint256 i; i < batch.length; ++i) {
            _assertStatus(batch[i].requestId, IPredictionEscrow.RequestStatus.Fulfilled, "every request settled");
            total += batch[i].fee;
        }
        _assertEq(reentrant.reentered() ? 1 : 0, 0, "re-entry refused");
        _assertEq(badge.balanceOf(SUBMITTER), 1, "the well-behaved consumer got its answer");
        _assertEq(escrow.balanceOf(address(0), ORACLE), _oracleShare(total), "oracle paid for all four");
    }

    function test_AReentrantWithdrawalInTheCallbackTakesNothing() public {
        ReentrantConsumer reentrant = new ReentrantConsumer(escrow);
        VM.deal(address(this), 1 ether);
        IPredictionEscrow.RequestTerms memory rejected = _request(reentrant);
        _reject(rejected);
        IPredictionEscrow.RequestTerms memory answered = _request(reentrant);
        reentrant.setAttack(ReentrantConsumer.Target.Withdraw, false, answered);

        _fulfilOne(answered, 1, 5_000);

        _assertStatus(answered.requestId, IPredictionEscrow.RequestStatus.Fulfilled, "settled");
        _assertEq(reentrant.reentered() ? 1 : 0, 0, "re-entry refused");
        _assertEq(escrow.balanceOf(address(0), address(reentrant)), rejected.fee, "refund still credited");
        _assertEq(escrow.balanceOf(address(0), ORACLE), _oracleShare(answered.fee), "oracle paid");
    }
}
