// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {CatBadge} from "../../contracts/examples/CatBadge.sol";
import {IPredictionEscrow} from "../../contracts/interfaces/IPredictionEscrow.sol";
import {PredictionConsumer} from "../../contracts/PredictionConsumer.sol";
import {EscrowTest} from "./EscrowTest.sol";

/// @dev CatBadge, a consumer on PredictionConsumer, against the real escrow: request,
/// callback, and the submitter's refund after a rejection or the deadline.
contract CatBadgeTest is EscrowTest {
    address internal constant SUBMITTER = address(0x5B1);
    bytes internal constant IMAGE_CID = hex"01551220c0ffee";

    CatBadge internal badge;

    function setUp() public override {
        super.setUp();
        badge = new CatBadge(escrow, classifierId, 6_000);
        VM.deal(SUBMITTER, 1 ether);
    }

    function _submit() internal returns (IPredictionEscrow.RequestTerms memory terms) {
        uint256 fee = badge.quote();
        VM.prank(SUBMITTER);
        uint256 requestId = badge.submit{value: fee}(IMAGE_CID, type(uint40).max);
        terms = _terms(requestId, address(badge), fee, badge.CALLBACK_GAS_LIMIT());
    }

    function test_QuoteIsTheFeeWithTheCallbackGas() public view {
        _assertEq(badge.quote(), FEE + uint256(badge.CALLBACK_GAS_LIMIT()) * CALLBACK_GAS_PRICE, "quote");
    }

    function test_ACatEarnsABadgeInTheCallback() public {
        IPredictionEscrow.RequestTerms memory terms = _submit();
        _assertEq(escrow.commitmentOf(terms.requestId) == bytes32(0) ? 0 : 1, 1, "request stored");
        _fulfilOne(terms, 282, 9_000);
        _assertStatus(terms.requestId, IPredictionEscrow.RequestStatus.Fulfilled, "status");
        _assertEq(badge.balanceOf(SUBMITTER), 1, "badges of the submitter");
        _assertEq(badge.badgeCount(), 1, "badge count");
        _assertEq(escrow.balanceOf(address(0), ORACLE), _oracleShare(terms.fee), "oracle credited");
    }

    function test_ADogEarnsNothing() public {
        IPredictionEscrow.RequestTerms memory terms = _submit();
        _fulfilOne(terms, 207, 9_900);
        _assertEq(badge.balanceOf(SUBMITTER), 0, "badges of the submitter");
        (address submitter,) = badge.submissions(terms.requestId);
        _assertEq(uint160(submitter), 0, "submission judged");
    }

    function test_OnlyTheEscrowDeliversResults() public {
        IPredictionEscrow.RequestTerms memory terms = _submit();
        VM.expectRevert(PredictionConsumer.NotEscrow.selector);
        VM.prank(SUBMITTER);
        badge.onPredictionResult(terms.requestId, bytes32(0), 281, 9_000);
    }

    function test_ARejectedPhotoIsRefundedToItsSubmitter() public {
        IPredictionEscrow.RequestTerms memory terms = _submit();
        _reject(terms);
        uint256 before = SUBMITTER.balance;
        VM.prank(SUBMITTER);
        badge.claimExpired(terms, payable(SUBMITTER));
        _assertEq(SUBMITTER.balance - before, terms.fee, "refund");
        _assertEq(address(badge).balance, 0, "badge keeps nothing");
    }

    function test_AnUnansweredPhotoIsRefundedAfterItsDeadlineOnly() public {
        IPredictionEscrow.RequestTerms memory terms = _submit();
        VM.expectRevert(abi.encodeWithSelector(CatBadge.NotExpired.selector, terms.requestId));
        VM.prank(SUBMITTER);
        badge.claimExpired(terms, payable(SUBMITTER));

        VM.warp(terms.deadline + 1);
        uint256 before = SUBMITTER.balance;
        VM.prank(SUBMITTER);
        badge.claimExpired(terms, payable(SUBMITTER));
        _assertEq(SUBMITTER.balance - before, terms.fee, "refund");
        _assertStatus(terms.requestId, IPredictionEscrow.RequestStatus.Expired, "status");
    }

    function test_AnAnsweredPhotoIsNeverRefunded() public {
        IPredictionEscrow.RequestTerms memory terms = _submit();
        // A second submission, rejected: its refund sits in the escrow for the badge.
        IPredictionEscrow.RequestTerms memory other = _submit();
        _reject(other);
        // Make the first callback fail (the badge counter overflows on mint): fulfilled all the same.
        VM.store(address(badge), bytes32(uint256(6)), bytes32(type(uint256).max));
        _fulfilOne(terms, 281, 9_000);
        VM.expectRevert(abi.encodeWithSelector(CatBadge.AlreadyAnswered.selector, terms.requestId));
        VM.prank(SUBMITTER);
        badge.claimExpired(terms, payable(SUBMITTER));
    }
}
