// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {IPredictionEscrow} from "../../contracts/interfaces/IPredictionEscrow.sol";
import {TestGLM} from "../../contracts/mocks/TestGLM.sol";
import {PredictionConsumer} from "../../contracts/PredictionConsumer.sol";
import {EscrowTest} from "./EscrowTest.sol";

/// @dev A consumer paying a token-priced model from its own balance, in a few lines.
contract TokenConsumer is PredictionConsumer {
    IERC20 internal immutable token;
    uint16 public lastTopClass;

    constructor(IPredictionEscrow escrow_, IERC20 token_) PredictionConsumer(escrow_) {
        token = token_;
    }

    function ask(uint32 modelId, bytes calldata imageCid, uint256 fee) external returns (uint256) {
        return _requestPredictionInToken(token, modelId, imageCid, 100_000, fee, type(uint40).max);
    }

    function refund(IPredictionEscrow.RequestTerms calldata terms, address to)
        external
        returns (IPredictionEscrow.RequestStatus status)
    {
        status = _settleRefund(terms);
        _withdrawRefunds(address(token), to);
    }

    function _onPredictionResult(uint256, bytes32, uint16 topClass, uint16) internal override {
        lastTopClass = topClass;
    }
}

/// @dev The base's token path against the real escrow: the quote as the request's
/// maxFee and exact approval, the callback, the refund withdrawn in the token.
contract PredictionConsumerTest is EscrowTest {
    TestGLM internal glm;
    uint32 internal tokenModelId;
    TokenConsumer internal consumer;

    function setUp() public override {
        super.setUp();
        glm = new TestGLM();
        escrow.setFeeToken(address(glm), true, 1e12);
        tokenModelId = escrow.registerModel(
            IModelRegistry.ModelConfig({
                name: "squeezenet1.1-fp16",
                task: IModelRegistry.TaskKind.Classification,
                feeToken: address(glm),
                fee: 5 ether,
                callbackGasPrice: 1e9,
                responseWindow: RESPONSE_WINDOW,
                weightsSha256: keccak256("weights"),
                providerImageHash: keccak256("image"),
                manifestCid: hex"01551220bb"
            }),
            ORACLE
        );
        consumer = new TokenConsumer(escrow, glm);
        glm.mint(address(consumer), 100 ether);
    }

    function _ask() internal returns (IPredictionEscrow.RequestTerms memory terms) {
        (, uint256 fee) = escrow.quote(tokenModelId, 100_000);
        uint256 requestId = consumer.ask(tokenModelId, hex"01551220feed", fee);
        terms = _terms(requestId, address(consumer), fee, 100_000);
        terms.modelId = tokenModelId;
    }

    function test_PaysTheQuoteInTokensAndHearsTheAnswer() public {
        IPredictionEscrow.RequestTerms memory terms = _ask();
        _assertEq(glm.balanceOf(address(consumer)), 100 ether - terms.fee, "paid exactly the quote");
        _assertEq(glm.allowance(address(consumer), address(escrow)), 0, "no allowance left over");
        _fulfilOne(terms, 409, 7_000);
        _assertEq(consumer.lastTopClass(), 409, "callback");
    }

    function test_AQuoteBelowThePriceReverts() public {
        (, uint256 fee) = escrow.quote(tokenModelId, 100_000);
        VM.expectRevert(abi.encodeWithSelector(IPredictionEscrow.FeeAboveMax.selector, fee, fee - 1));
        consumer.ask(tokenModelId, hex"01551220feed", fee - 1);
    }

    function test_ARejectionIsRefundedInTheToken() public {
        IPredictionEscrow.RequestTerms memory terms = _ask();
        _assertEq(uint256(consumer.refund(terms, address(this))), uint256(IPredictionEscrow.RequestStatus.Pending), "pending");
        _assertEq(glm.balanceOf(address(this)), 0, "nothing refunded yet");
        _reject(terms);
        _assertEq(uint256(consumer.refund(terms, address(this))), uint256(IPredictionEscrow.RequestStatus.Rejected), "rejected");
        _assertEq(glm.balanceOf(address(this)), terms.fee, "refund withdrawn");
    }
}
