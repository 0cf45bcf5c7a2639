// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC3009} from "@openzeppelin/contracts/interfaces/draft-IERC3009.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IPredictionConsumer} from "./interfaces/IPredictionConsumer.sol";
import {IPredictionEscrow} from "./interfaces/IPredictionEscrow.sol";
import {FulfillmentDetails} from "./libraries/Fulfillment.sol";
import {RequestAuthorizationLib} from "./libraries/RequestAuthorization.sol";
import {ModelRegistry} from "./ModelRegistry.sol";

/// @title PredictionEscrow
/// @notice Argus's on-chain half: sells predictions from registered models, holds each
/// fee in escrow until the model's operator answers (fee to the operator, minus the
/// protocol fee), rejects (fee back) or the deadline passes (fee back to whoever is owed
/// it, on demand).
/// @dev Request ids are hashes under the block number, not a counter, and the pause flag
/// is mirrored into each model's terms slot: both keep a request at one cold storage read
/// plus one new slot.
/// Invariant: for every currency, the contract's balance equals the fees of pending
/// requests plus all withdrawable balances. Every payout is a pull (`withdraw`).
contract PredictionEscrow is IPredictionEscrow, ModelRegistry, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Most the protocol fee may be, in basis points of a fulfilled request's fee.
    uint16 public constant MAX_PROTOCOL_FEE_BPS = 2_000;
    /// @notice Most callback gas a request may buy.
    uint32 public constant MAX_CALLBACK_GAS_LIMIT = 2_500_000;
    /// @notice Gas a callback item needs beyond 64/63 of its limit: settling it (one
    /// storage write, one event, the call's data) and the CALL itself (a cold account,
    /// and a second cold account when the consumer delegates its code under EIP-7702),
    /// with room to spare. `fulfillBatch` gives a callback its turn only when
    /// `limit * 64 / 63 + CALLBACK_GAS_OVERHEAD` is left, and operators budget as much.
    uint256 public constant CALLBACK_GAS_OVERHEAD = 12_000;

    /// @dev What a settled request's slot holds. A fulfilment clears it (the storage
    /// refund is most of what keeps fulfilment cheap) unless it happened in the request's
    /// own block, where the slot must stay taken so the id is not issued again (see
    /// `_newRequestId`); refunds are rarer and keep their outcome. No commitment is this small.
    bytes32 private constant FULFILLED_IN_BLOCK = bytes32(uint256(1));
    bytes32 private constant REJECTED = bytes32(uint256(2));
    bytes32 private constant EXPIRED = bytes32(uint256(3));
    uint256 private constant LAST_MARKER = 3;

    /// @dev Which settlement closes a request; each has its deadline rule and leaves its marker.
    enum Settlement {
        Reject, // the input is unusable whatever the time
        Fulfil, // the answer must arrive in time
        Reclaim // only once the deadline has passed
    }

    struct FeeConfig {
        address treasury;
        uint16 feeBps;
    }

    FeeConfig private _protocolFee;
    mapping(uint256 requestId => bytes32 commitment) private _commitments;
    uint256 private transient _requestsInTransaction;
    mapping(address token => mapping(address account => uint256)) private _balances;

    /// @notice Deploys the escrow with its admin and protocol fee; it lists no fee currency
    /// and no model yet. Emits RoleGranted (the admin) and ProtocolFeeChanged. Reverts
    /// AccessControlInvalidDefaultAdmin for a zero admin, InvalidProtocolFee for a bad fee.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants the model-admin role, lists fee
    /// currencies, sets the protocol fee, pauses).
    /// @param adminDelay Seconds a transfer of the admin role waits between its two steps.
    /// @param treasury Receiver of the protocol fee.
    /// @param feeBps Protocol fee in basis points of each fulfilled request's fee.
    constructor(address admin, uint48 adminDelay, address treasury, uint16 feeBps) ModelRegistry(adminDelay, admin) {
        _setProtocolFee(treasury, feeBps);
    }

    // ------------------------------------------------------------------ requests

    /// @inheritdoc IPredictionEscrow
    function requestPrediction(uint32 modelId, bytes calldata imageCid, uint256 maxFee, uint40 latestDeadline)
        external
        payable
        returns (uint256)
    {
        return _request(msg.sender, modelId, imageCid, 0, maxFee, latestDeadline);
    }

    /// @inheritdoc IPredictionEscrow
    function requestPredictionWithCallback(
        uint32 modelId,
        bytes calldata imageCid,
        uint32 callbackGasLimit,
        uint256 maxFee,
        uint40 latestDeadline
    ) external payable returns (uint256) {
        return _request(msg.sender, modelId, imageCid, callbackGasLimit, maxFee, latestDeadline);
    }

    /// @inheritdoc IPredictionEscrow
    function requestPredictionWithPermit(
        uint32 modelId,
        bytes calldata imageCid,
        uint32 callbackGasLimit,
        uint256 maxFee,
        uint40 latestDeadline,
        PermitSignature calldata permit
    ) external returns (uint256) {
        ModelTerms memory model = _terms[modelId];
        if (!model.tokenPriced) {
            _requireRegistered(modelId);
            revert NotTokenPriced(modelId);
        }
        address token = _info[modelId].feeToken;
        // Only a short allowance is topped up: a permit would otherwise replace a larger
        // standing approval (an unlimited one, say) with exactly `maxFee`. A permit can be
        // front-run by anyone who saw it; the allowance it set still counts.
        if (IERC20(token).allowance(msg.sender, address(this)) < _price(model, callbackGasLimit)) {
            // Success or failure, the allowance decides: nothing to do in either branch.
            // solhint-disable no-empty-blocks
            try IERC20Permit(token).permit(
                msg.sender, address(this), maxFee, permit.deadline, permit.v, permit.r, permit.s
            ) {} catch {}
            // solhint-enable no-empty-blocks
        }
        return _request(msg.sender, modelId, imageCid, callbackGasLimit, maxFee, latestDeadline);
    }

    /// @inheritdoc IPredictionEscrow
    function requestPredictionWithAuthorization(
        uint32 modelId,
        bytes calldata imageCid,
        uint32 callbackGasLimit,
        uint256 maxFee,
        uint40 latestDeadline,
        ReceiveAuthorization calldata authorization
    ) external returns (uint256 requestId) {
        bytes32 nonce = RequestAuthorizationLib.nonce(
            address(this), block.chainid, modelId, imageCid, maxFee, callbackGasLimit, latestDeadline
        );
        if (authorization.nonce != nonce) revert AuthorizationNonceMismatch(nonce, authorization.nonce);
        ModelTerms memory model = _terms[modelId];
        if (!model.tokenPriced) {
            _requireRegistered(modelId);
            revert NotTokenPriced(modelId);
        }
        // Effects first, as on every path: the request is recorded, then the token is called.
        requestId = _request(authorization.from, modelId, imageCid, callbackGasLimit, maxFee, latestDeadline);
        _receiveToken(_info[modelId].feeToken, _price(model, callbackGasLimit), authorization);
    }

    /// @dev Checks and records a request by `requester` (the caller, but for the
    /// authorization path's signer) and takes its payment: the native fee as `msg.value`,
    /// or a token fee pulled from the caller — except on the authorization path, which
    /// redeems the signer's authorization after this returns. That path is told apart by
    /// `msg.sig`, not a parameter: one more argument would cost every request ~10 gas of
    /// stack shuffling (measured: ~15; and it overflowed the stack at the event).
    function _request(
        address requester,
        uint32 modelId,
        bytes calldata imageCid,
        uint32 callbackGasLimit,
        uint256 maxFee,
        uint40 latestDeadline
    ) private returns (uint256 requestId) {
        ModelTerms memory model = _terms[modelId];
        // `paused` is mirrored into every model's slot so this one read covers both checks.
        if (model.paused) revert EnforcedPause();
        if (!model.active) {
            // Only on the way to a revert: a request for a live model never pays this read.
            _requireRegistered(modelId);
            revert ModelNotActive(modelId);
        }
        if (imageCid.length < 2 || imageCid.length > 128) revert InvalidImageCid();
        if (callbackGasLimit != 0) {
            if (callbackGasLimit > MAX_CALLBACK_GAS_LIMIT) {
                revert CallbackGasLimitTooHigh(callbackGasLimit, MAX_CALLBACK_GAS_LIMIT);
            }
            // Unpriced callback gas would be the operator's to pay.
            if (model.callbackGasPrice == 0) revert CallbacksNotOffered(modelId);
        }
        uint96 fee = _price(model, callbackGasLimit);
        if (fee > maxFee) revert FeeAboveMax(fee, maxFee);
        uint40 deadline = uint40(block.timestamp) + model.responseWindow;
        if (deadline > latestDeadline) revert DeadlineTooLate(deadline, latestDeadline);
        uint256 expectedValue = model.tokenPriced ? 0 : fee;
        if (msg.value != expectedValue) revert IncorrectPayment(expectedValue, msg.value);

        requestId = _newRequestId(requester, imageCid);
        _commitments[requestId] = _commitment(requester, modelId, fee, deadline, callbackGasLimit);
        emit PredictionRequested(requestId, requester, modelId, imageCid, fee, deadline, callbackGasLimit);

        if (model.tokenPriced && msg.sig != this.requestPredictionWithAuthorization.selector) {
            _pullToken(_info[modelId].feeToken, fee);
        }
    }

    /// @dev A fresh id without a storage counter (a counter write would cost a request
    /// ~3,000 gas): the block number (bits 96 and up) over 96 bits of the hash of the
    /// requester, the block, a per-transaction sequence and the image, moved on past any id
    /// in use. While block numbers stay below 2^32 ids fit in 128 bits, which keeps every
    /// settlement item's calldata 16 zero bytes cheaper.
    /// The image is in the hash because the commitment does not hold it: after a reorg the
    /// same requester may ask again in a block of the same number, and a settlement replayed
    /// from the orphaned branch must not land on a request for another image.
    /// Reading the slot first is free: the SSTORE that follows then pays no cold-access
    /// surcharge. The hash repeats for a requester's identical requests in one block, so
    /// an id settled in that block keeps its slot taken (`FULFILLED_IN_BLOCK`, or a refund's
    /// marker): otherwise an identical request could be given it, and a replayed settlement
    /// of the first would settle the second. Ids of other blocks differ in their top bits.
    function _newRequestId(address requester, bytes calldata imageCid) private returns (uint256 requestId) {
        requestId = (block.number << 96)
            | uint96(
                uint256(keccak256(abi.encode(requester, block.number, ++_requestsInTransaction, keccak256(imageCid))))
            );
        while (_commitments[requestId] != 0) {
            unchecked {
                ++requestId;
            }
        }
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc IPredictionEscrow
    function fulfillBatch(Fulfillment[] calldata batch) external nonReentrant {
        uint32 runModel; // the model of the current run of items (batches are per model)
        bool operated; // whether the caller operates it
        address runToken;
        uint256 runTotal;
        for (uint256 i; i < batch.length; ++i) {
            Fulfillment calldata item = batch[i];
            (uint32 modelId, uint40 deadline, uint32 callbackGasLimit) = item.details.terms();
            // Look the operator and fee token up only when the model changes.
            if (modelId != runModel) {
                runModel = modelId;
                operated = _operators[modelId][msg.sender];
                address token = _info[modelId].feeToken;
                if (token != runToken) {
                    _creditFees(runToken, runTotal);
                    (runToken, runTotal) = (token, 0);
                }
            }
            if (!operated) {
                emit SettlementSkipped(item.requestId, SkipReason.NotOperator);
                continue;
            }
            runTotal += _fulfill(item, modelId, deadline, callbackGasLimit);
        }
        _creditFees(runToken, runTotal);
    }

    /// @inheritdoc IPredictionEscrow
    function rejectBatch(Rejection[] calldata batch) external nonReentrant {
        uint32 runModel;
        bool operated;
        for (uint256 i; i < batch.length; ++i) {
            RequestTerms calldata terms = batch[i].terms;
            uint32 modelId = terms.modelId;
            if (modelId != runModel) (runModel, operated) = (modelId, _operators[modelId][msg.sender]);
            if (!operated) {
                emit SettlementSkipped(terms.requestId, SkipReason.NotOperator);
                continue;
            }
            if (!_close(terms.requestId, _commitment(terms), terms.deadline, Settlement.Reject, REJECTED, 0)) continue;
            _balances[_info[modelId].feeToken][terms.requester] += terms.fee;
            emit PredictionRejected(terms.requestId, batch[i].reason, terms.fee);
        }
    }

    /// @inheritdoc IPredictionEscrow
    function reclaim(RequestTerms calldata terms) external nonReentrant returns (bool refunded) {
        if (!_close(terms.requestId, _commitment(terms), terms.deadline, Settlement.Reclaim, EXPIRED, 0)) return false;
        _balances[_info[terms.modelId].feeToken][terms.requester] += terms.fee;
        emit PredictionExpired(terms.requestId, terms.fee);
        return true;
    }

    /// @inheritdoc IPredictionEscrow
    function withdraw(address token, address to) external nonReentrant {
        // Either would leave the amount where nobody can ever withdraw it again.
        if (to == address(0) || to == address(this)) revert InvalidRecipient(to);
        uint256 amount = _balances[token][msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        _balances[token][msg.sender] = 0;
        emit Withdrawn(msg.sender, token, to, amount);
        if (token == address(0)) Address.sendValue(payable(to), amount);
        else IERC20(token).safeTransfer(to, amount);
    }

    // --------------------------------------------------------------------- admin

    /// @inheritdoc IPredictionEscrow
    function setProtocolFee(address treasury, uint16 feeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setProtocolFee(treasury, feeBps);
    }

    /// @inheritdoc IPredictionEscrow
    function pause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _pause();
        _setModelsPaused(true);
    }

    /// @inheritdoc IPredictionEscrow
    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
        _setModelsPaused(false);
    }

    // --------------------------------------------------------------------- views

    /// @inheritdoc IPredictionEscrow
    function quote(uint32 modelId, uint32 callbackGasLimit) external view returns (address token, uint256 amount) {
        _requireRegistered(modelId);
        return (_info[modelId].feeToken, _price(_terms[modelId], callbackGasLimit));
    }

    /// @inheritdoc IPredictionEscrow
    function isPending(uint256 requestId) external view returns (bool) {
        return uint256(_commitments[requestId]) > LAST_MARKER;
    }

    /// @inheritdoc IPredictionEscrow
    function statusOf(uint256 requestId) external view returns (RequestStatus) {
        bytes32 stored = _commitments[requestId];
        if (stored == 0) {
            // An empty slot of the current block is an id not issued yet (a fulfilment in
            // the request's own block leaves FULFILLED_IN_BLOCK); of a past block, a
            // fulfilled request (or an id never issued: see RequestStatus).
            uint256 issuedIn = requestId >> 96;
            return issuedIn == 0 || issuedIn >= block.number ? RequestStatus.None : RequestStatus.Fulfilled;
        }
        if (stored == FULFILLED_IN_BLOCK) return RequestStatus.Fulfilled;
        if (stored == REJECTED) return RequestStatus.Rejected;
        if (stored == EXPIRED) return RequestStatus.Expired;
        return RequestStatus.Pending;
    }

    /// @inheritdoc IPredictionEscrow
    function commitmentOf(uint256 requestId) external view returns (bytes32) {
        bytes32 stored = _commitments[requestId];
        return uint256(stored) > LAST_MARKER ? stored : bytes32(0);
    }

    /// @inheritdoc IPredictionEscrow
    function balanceOf(address token, address account) external view returns (uint256) {
        return _balances[token][account];
    }

    /// @inheritdoc IPredictionEscrow
    function protocolFee() external view returns (address treasury, uint16 feeBps) {
        return (_protocolFee.treasury, _protocolFee.feeBps);
    }

    // ------------------------------------------------------------------ internals

    /// @dev Settles one packed answer: checks and clears its commitment, emits the result
    /// and delivers the callback. Returns its fee if it settled, else 0.
    function _fulfill(Fulfillment calldata item, uint32 modelId, uint40 deadline, uint32 callbackGasLimit)
        private
        returns (uint96)
    {
        uint256 requestId = item.requestId;
        (address requester, uint96 fee) = item.requesterAndFee.unpack();
        bytes32 commitment = _commitment(requester, modelId, fee, deadline, callbackGasLimit);
        // EIP-150 forwards at most 63/64 of the remaining gas: a callback is only called
        // when its whole limit can be forwarded, or an operator could starve it on purpose
        // and still collect the fee. One that cannot be funded stays pending.
        uint256 gasNeeded = callbackGasLimit == 0 ? 0 : (uint256(callbackGasLimit) * 64) / 63 + CALLBACK_GAS_OVERHEAD;
        // Cleared (earning the storage refund) unless settled in the request's own block.
        bytes32 settledMark = requestId >> 96 == block.number ? FULFILLED_IN_BLOCK : bytes32(0);
        if (!_close(requestId, commitment, deadline, Settlement.Fulfil, settledMark, gasNeeded)) return 0;

        emit PredictionFulfilled(requestId, item.resultDigest);
        if (callbackGasLimit != 0) _deliver(requestId, requester, callbackGasLimit, item.resultDigest, item.details);
        return fee;
    }

    /// @dev Closes a pending request — leaves `settledMark` in its slot — if `commitment`
    /// matches it, the deadline rule of `settlement` allows and at least `gasNeeded` gas is
    /// left; otherwise emits why not and changes nothing.
    function _close(
        uint256 requestId,
        bytes32 commitment,
        uint40 deadline,
        Settlement settlement,
        bytes32 settledMark,
        uint256 gasNeeded
    ) private returns (bool) {
        bytes32 stored = _commitments[requestId];
        SkipReason reason;
        if (uint256(stored) <= LAST_MARKER) {
            reason = SkipReason.NotPending;
        } else if (stored != commitment) {
            reason = SkipReason.TermsMismatch;
        } else if (settlement == Settlement.Fulfil && block.timestamp > deadline) {
            reason = SkipReason.Expired;
        } else if (settlement == Settlement.Reclaim && block.timestamp <= deadline) {
            reason = SkipReason.NotExpired;
        } else if (gasleft() < gasNeeded) {
            reason = SkipReason.InsufficientCallbackGas;
        } else {
            _commitments[requestId] = settledMark;
            return true;
        }
        emit SettlementSkipped(requestId, reason);
        return false;
    }

    /// @dev Calls the consumer with exactly its paid gas limit and copies no return data,
    /// so neither a revert, a gas burner nor a return-data bomb can fail the batch.
    function _deliver(
        uint256 requestId,
        address consumer,
        uint256 gasLimit,
        bytes32 digest,
        FulfillmentDetails details
    ) private {
        (uint16 topClass, uint16 topScore) = details.topResult();
        bytes memory data =
            abi.encodeCall(IPredictionConsumer.onPredictionResult, (requestId, digest, topClass, topScore));
        bool success;
        // Solidity's call copies all return data into memory: a return-data bomb would make
        // the batch pay for it. Only assembly calls without copying.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            success := call(gasLimit, consumer, 0, add(data, 0x20), mload(data), 0, 0)
        }
        // A callee given less than its limit (the CALL cost more than `_fulfill` allowed
        // for) that spent it all leaves less than gasLimit / 63 here; one given its whole
        // limit leaves at least that. Never pay for a starved callback.
        if (gasleft() < gasLimit / 63) revert InsufficientGasForCallback(requestId);
        if (!success) emit CallbackFailed(requestId);
    }

    /// @dev Credits the fees of a run of fulfilled requests in one currency. The protocol
    /// fee rounds up: rounded down, fees split into small runs would escape it.
    function _creditFees(address token, uint256 total) private {
        if (total == 0) return;
        FeeConfig memory config = _protocolFee;
        uint256 cut = (total * config.feeBps + 9_999) / 10_000;
        _balances[token][msg.sender] += total - cut;
        if (cut != 0) _balances[token][config.treasury] += cut;
        emit FeesCredited(msg.sender, token, total - cut, config.treasury, cut);
    }

    /// @dev Pulls a token fee. Only listed tokens: a rebasing token passes the balance check
    /// below and still breaks the escrow invariant later, so the admin's list keeps it out;
    /// the check catches a fee-on-transfer token (or a listed token that became one).
    function _pullToken(address token, uint256 amount) private {
        if (!_feeTokens[token].allowed) revert FeeTokenNotAllowed(token);
        IERC20 erc20 = IERC20(token);
        uint256 balanceBefore = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        if (erc20.balanceOf(address(this)) - balanceBefore != amount) revert UnsupportedToken(token);
    }

    /// @dev Redeems an EIP-3009 authorization for exactly `fee`, with `_pullToken`'s checks:
    /// the token must still be listed and the fee must arrive in full.
    function _receiveToken(address token, uint96 fee, ReceiveAuthorization calldata authorization) private {
        if (authorization.value != fee) revert AuthorizationValueMismatch(authorization.value, fee);
        if (!_feeTokens[token].allowed) revert FeeTokenNotAllowed(token);
        IERC20 erc20 = IERC20(token);
        uint256 balanceBefore = erc20.balanceOf(address(this));
        IERC3009(token).receiveWithAuthorization(
            authorization.from,
            address(this),
            fee,
            authorization.validAfter,
            authorization.validBefore,
            authorization.nonce,
            authorization.v,
            authorization.r,
            authorization.s
        );
        if (erc20.balanceOf(address(this)) - balanceBefore != fee) revert UnsupportedToken(token);
    }

    function _setProtocolFee(address treasury, uint16 feeBps) private {
        if (feeBps > MAX_PROTOCOL_FEE_BPS || (feeBps != 0 && treasury == address(0))) revert InvalidProtocolFee();
        _protocolFee = FeeConfig(treasury, feeBps);
        emit ProtocolFeeChanged(treasury, feeBps);
    }

    function _registryPaused() internal view override returns (bool) {
        return paused();
    }

    function _price(ModelTerms memory model, uint32 callbackGasLimit) private pure returns (uint96) {
        uint256 total = uint256(model.fee) + uint256(callbackGasLimit) * model.callbackGasPrice;
        if (total > type(uint96).max) revert FeeOverflow();
        return uint96(total);
    }

    /// @dev keccak256(abi.encode(requester, modelId, fee, deadline, callbackGasLimit)),
    /// hashed in scratch memory: a batch computes one per item and must not grow memory.
    /// Values narrower than a word may reach assembly with dirty high bits (FulfillmentLib's
    /// accessors narrow lazily), so each is masked as abi.encode would.
    function _commitment(address requester, uint32 modelId, uint96 fee, uint40 deadline, uint32 callbackGasLimit)
        private
        pure
        returns (bytes32 commitment)
    {
        // One hash per batch item: abi.encode would allocate memory for each, and memory
        // cost grows with the square of its size.
        // solhint-disable-next-line no-inline-assembly
        assembly ("memory-safe") {
            let free := mload(0x40)
            mstore(free, and(requester, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(free, 0x20), and(modelId, 0xffffffff))
            mstore(add(free, 0x40), and(fee, 0xffffffffffffffffffffffff))
            mstore(add(free, 0x60), and(deadline, 0xffffffffff))
            mstore(add(free, 0x80), and(callbackGasLimit, 0xffffffff))
            commitment := keccak256(free, 0xa0)
        }
    }

    function _commitment(RequestTerms calldata terms) private pure returns (bytes32) {
        return _commitment(terms.requester, terms.modelId, terms.fee, terms.deadline, terms.callbackGasLimit);
    }
}
