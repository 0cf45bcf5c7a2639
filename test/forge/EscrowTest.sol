// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {IModelRegistry} from "../../contracts/interfaces/IModelRegistry.sol";
import {IPredictionEscrow} from "../../contracts/interfaces/IPredictionEscrow.sol";
import {FulfillmentLib} from "../../contracts/libraries/Fulfillment.sol";
import {PredictionEscrow} from "../../contracts/PredictionEscrow.sol";

/// @dev The real escrow with one native-priced classifier, and an oracle to settle it.
/// Only forge-std's cheatcode interface is used: the npm forge-std 1.1.2 ships `Test.sol`
/// without the ds-test it imports, so the few assertions needed are here, and fail by
/// reverting (as forge expects of a test).
abstract contract EscrowTest {
    Vm internal constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint96 internal constant FEE = 0.001 ether;
    uint64 internal constant CALLBACK_GAS_PRICE = 1 gwei;
    uint32 internal constant RESPONSE_WINDOW = 1 hours;
    uint16 internal constant PROTOCOL_FEE_BPS = 500;

    address internal constant ORACLE = address(0x0AC1E);
    address internal constant TREASURY = address(0x7EA5);

    PredictionEscrow internal escrow;
    uint32 internal classifierId;

    error Mismatch(string what, uint256 actual, uint256 expected);

    function setUp() public virtual {
        escrow = new PredictionEscrow(address(this), 0, TREASURY, PROTOCOL_FEE_BPS);
        escrow.grantRole(escrow.MODEL_ADMIN_ROLE(), address(this));
        escrow.setFeeToken(address(0), true, 10 gwei);
        classifierId = escrow.registerModel(
            IModelRegistry.ModelConfig({
                name: "mobilenetv2-12",
                task: IModelRegistry.TaskKind.Classification,
                feeToken: address(0),
                fee: FEE,
                callbackGasPrice: CALLBACK_GAS_PRICE,
                responseWindow: RESPONSE_WINDOW,
                weightsSha256: keccak256("weights"),
                providerImageHash: keccak256("image"),
                manifestCid: hex"01551220aa"
            }),
            ORACLE
        );
    }

    /// @dev The terms `PredictionRequested` names for a request `requester` made now.
    function _terms(uint256 requestId, address requester, uint256 fee, uint32 callbackGasLimit)
        internal
        view
        returns (IPredictionEscrow.RequestTerms memory)
    {
        return IPredictionEscrow.RequestTerms({
            requestId: requestId,
            requester: requester,
            modelId: classifierId,
            fee: uint96(fee),
            deadline: uint40(block.timestamp) + RESPONSE_WINDOW,
            callbackGasLimit: callbackGasLimit
        });
    }

    /// @dev The oracle answers every request with the same top class and score.
    function _fulfil(IPredictionEscrow.RequestTerms[] memory requests, uint16 topClass, uint16 topScore) internal {
        IPredictionEscrow.Fulfillment[] memory batch = new IPredictionEscrow.Fulfillment[](requests.length);
        for (uint256 i; i < requests.length; ++i) {
            IPredictionEscrow.RequestTerms memory t = requests[i];
            batch[i] = IPredictionEscrow.Fulfillment(
                t.requestId,
                FulfillmentLib.toRequesterAndFee(t.requester, t.fee),
                FulfillmentLib.toDetails(t.modelId, t.deadline, t.callbackGasLimit, topClass, topScore),
                keccak256(abi.encode(t.requestId))
            );
        }
        VM.prank(ORACLE);
        escrow.fulfillBatch(batch);
    }

    function _fulfilOne(IPredictionEscrow.RequestTerms memory terms, uint16 topClass, uint16 topScore) internal {
        IPredictionEscrow.RequestTerms[] memory requests = new IPredictionEscrow.RequestTerms[](1);
        requests[0] = terms;
        _fulfil(requests, topClass, topScore);
    }

    function _reject(IPredictionEscrow.RequestTerms memory terms) internal {
        IPredictionEscrow.Rejection[] memory batch = new IPredictionEscrow.Rejection[](1);
        batch[0] = IPredictionEscrow.Rejection(terms, IPredictionEscrow.RejectReason.NotAnImage);
        VM.prank(ORACLE);
        escrow.rejectBatch(batch);
    }

    /// @dev The fee of a fulfilled request the oracle is credited (the protocol fee rounds up).
    function _oracleShare(uint256 fee) internal pure returns (uint256) {
        return fee - (fee * PROTOCOL_FEE_BPS + 9_999) / 10_000;
    }

    function _assertEq(uint256 actual, uint256 expected, string memory what) internal pure {
        if (actual != expected) revert Mismatch(what, actual, expected);
    }

    function _assertStatus(uint256 requestId, IPredictionEscrow.RequestStatus expected, string memory what)
        internal
        view
    {
        _assertEq(uint256(escrow.statusOf(requestId)), uint256(expected), what);
    }
}
