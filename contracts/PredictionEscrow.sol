// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IPredictionConsumer} from "./interfaces/IPredictionConsumer.sol";
import {IPredictionEscrow} from "./interfaces/IPredictionEscrow.sol";
import {FulfillmentDetails} from "./libraries/Fulfillment.sol";
import {ModelRegistry} from "./ModelRegistry.sol";

/// @title PredictionEscrow
/// @notice Argus's on-chain half: sells predictions from registered models, holds each
/// fee in escrow until the oracle answers (fee to the oracle, minus the protocol fee),
/// rejects (fee back) or the deadline passes (fee back to whoever is owed it, on demand).
/// @dev Request ids are hashes under the block number, not a counter, and the pause flag
/// is mirrored into each model's terms slot: both keep a request at one cold storage read
/// plus one new slot.
/// Invariant: for every currency, the contract's balance equals the fees of pending
/// requests plus all withdrawable balances. Every payout is a pull (`withdraw`).
contract PredictionEscrow is IPredictionEscrow, ModelRegistry, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");
    uint16 public constant MAX_PROTOCOL_FEE_BPS = 2_000;
    uint32 public constant MAX_CALLBACK_GAS_LIMIT = 2_500_000;
    /// @dev Gas the CALL itself may need beyond what it forwards (cold account access, memory).
    uint256 private constant CALLBACK_CALL_OVERHEAD = 5_000;
    /// @dev Left in the slot of a request settled in the block that made it, so that its
    /// id is not issued again in that block (see `_newRequestId`). Never a commitment.
    bytes32 private constant SETTLED_IN_BLOCK = bytes32(uint256(1));

    /// @dev Which deadline rule a settlement obeys.
    enum DeadlineRule {
        Any, // rejection: the input is unusable whatever the time
        NotPassed, // fulfilment: the answer must arrive in time
        Passed // reclaim: only once the oracle has missed the deadline
    }

    struct FeeConfig {
        address treasury;
        uint16 feeBps;
    }

    FeeConfig private _protocolFee;
    mapping(uint256 requestId => bytes32 commitment) private _commitments;
    uint256 private transient _requestsInTransaction;
    mapping(address token => mapping(address account => uint256)) private _balances;

    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants the model-admin and oracle roles).
    /// @param treasury Receiver of the protocol fee.
    /// @param feeBps Protocol fee in basis points of each fulfilled request's fee.
    constructor(address admin, address treasury, uint16 feeBps) {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setProtocolFee(treasury, feeBps);
    }

    // ------------------------------------------------------------------ requests

    /// @inheritdoc IPredictionEscrow
    function requestPrediction(uint32 modelId, bytes calldata imageCid) external payable returns (uint256) {
        return _request(modelId, imageCid, 0);
    }

    /// @inheritdoc IPredictionEscrow
    function requestPredictionWithCallback(uint32 modelId, bytes calldata imageCid, uint32 callbackGasLimit)
        external
        payable
        returns (uint256)
    {
        return _request(modelId, imageCid, callbackGasLimit);
    }

    /// @inheritdoc IPredictionEscrow
    function requestPredictionWithPermit(
        uint32 modelId,
        bytes calldata imageCid,
        uint32 callbackGasLimit,
        PermitSignature calldata permit
    ) external returns (uint256) {
        ModelTerms memory model = _terms[modelId];
        if (!model.tokenPriced) {
            _requireRegistered(modelId);
            revert NotTokenPriced(modelId);
        }
        uint256 fee = _price(model, callbackGasLimit);
        // A permit can be front-run by anyone who saw it; the allowance it set still counts.
        try IERC20Permit(_info[modelId].feeToken).permit(
            msg.sender, address(this), fee, permit.deadline, permit.v, permit.r, permit.s
        ) {} catch {}
        return _request(modelId, imageCid, callbackGasLimit);
    }

    function _request(uint32 modelId, bytes calldata imageCid, uint32 callbackGasLimit)
        private
        returns (uint256 requestId)
    {
        ModelTerms memory model = _terms[modelId];
        // `paused` is mirrored into every model's slot so this one read covers both checks.
        if (model.paused) revert EnforcedPause();
        if (!model.active) {
            // Only on the way to a revert: a request for a live model never pays this read.
            _requireRegistered(modelId);
            revert ModelNotActive(modelId);
        }
        if (imageCid.length < 2 || imageCid.length > 128) revert InvalidImageCid();
        if (callbackGasLimit > MAX_CALLBACK_GAS_LIMIT) {
            revert CallbackGasLimitTooHigh(callbackGasLimit, MAX_CALLBACK_GAS_LIMIT);
        }
        uint96 fee = _price(model, callbackGasLimit);
        uint256 expectedValue = model.tokenPriced ? 0 : fee;
        if (msg.value != expectedValue) revert IncorrectPayment(expectedValue, msg.value);

        requestId = _newRequestId(imageCid);
        uint40 deadline = uint40(block.timestamp) + model.responseWindow;
        _commitments[requestId] = _commitment(msg.sender, modelId, fee, deadline, callbackGasLimit);
        emit PredictionRequested(requestId, msg.sender, modelId, imageCid, fee, deadline, callbackGasLimit);

        if (model.tokenPriced) _pullToken(_info[modelId].feeToken, fee);
    }

    /// @dev A fresh id without a storage counter (a counter write would cost a request
    /// ~3,000 gas): the block number over 96 bits of the hash of the caller, the block, a
    /// per-transaction sequence and the image, moved on past any id in use. Ids fit in
    /// 128 bits, which keeps every settlement item's calldata 16 zero bytes cheaper.
    /// The image is in the hash because the commitment does not hold it: after a reorg the
    /// same caller may ask again in a block of the same number, and a settlement replayed
    /// from the orphaned branch must not land on a request for another image.
    /// Reading the slot first is free: the SSTORE that follows then pays no cold-access
    /// surcharge. The hash repeats for a caller's identical transactions in one block, so
    /// an id whose request was settled in that block keeps its slot marked
    /// (`SETTLED_IN_BLOCK`): otherwise an identical request could be given it, and a
    /// replayed settlement of the first would settle the second. Ids of other blocks
    /// differ in their top bits.
    function _newRequestId(bytes calldata imageCid) private returns (uint256 requestId) {
        requestId = (block.number << 96)
            | uint96(
                uint256(keccak256(abi.encode(msg.sender, block.number, _requestsInTransaction++, keccak256(imageCid))))
            );
        while (_commitments[requestId] != 0) {
            unchecked {
                ++requestId;
            }
        }
    }

    // ---------------------------------------------------------------- settlement

    /// @inheritdoc IPredictionEscrow
    function fulfillBatch(Fulfillment[] calldata batch) external onlyRole(ORACLE_ROLE) nonReentrant {
        uint32 runModel;
        address runToken;
        uint256 runTotal;
        for (uint256 i; i < batch.length; ++i) {
            (bool settled, uint32 modelId, uint96 fee) = _fulfill(batch[i]);
            if (!settled) continue;
            // Batches are per model: look the fee token up only when the model changes.
            if (modelId != runModel) {
                address token = _info[modelId].feeToken;
                if (token != runToken) {
                    _creditFees(runToken, runTotal);
                    (runToken, runTotal) = (token, 0);
                }
                runModel = modelId;
            }
            runTotal += fee;
        }
        _creditFees(runToken, runTotal);
    }

    /// @inheritdoc IPredictionEscrow
    function rejectBatch(Rejection[] calldata batch) external onlyRole(ORACLE_ROLE) nonReentrant {
        for (uint256 i; i < batch.length; ++i) {
            RequestTerms calldata terms = batch[i].terms;
            if (!_close(terms.requestId, _commitment(terms), terms.deadline, DeadlineRule.Any)) continue;
            _balances[_info[terms.modelId].feeToken][terms.requester] += terms.fee;
            emit PredictionRejected(terms.requestId, batch[i].reason);
        }
    }

    /// @inheritdoc IPredictionEscrow
    function reclaim(RequestTerms calldata terms) external nonReentrant returns (bool refunded) {
        if (!_close(terms.requestId, _commitment(terms), terms.deadline, DeadlineRule.Passed)) return false;
        _balances[_info[terms.modelId].feeToken][terms.requester] += terms.fee;
        emit PredictionExpired(terms.requestId);
        return true;
    }

    /// @inheritdoc IPredictionEscrow
    function withdraw(address token, address to) external nonReentrant {
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
        bytes32 stored = _commitments[requestId];
        return stored != 0 && stored != SETTLED_IN_BLOCK;
    }

    /// @inheritdoc IPredictionEscrow
    function commitmentOf(uint256 requestId) external view returns (bytes32) {
        bytes32 stored = _commitments[requestId];
        return stored == SETTLED_IN_BLOCK ? bytes32(0) : stored;
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

    /// @dev Settles one packed answer: checks and deletes its commitment, emits the
    /// result and delivers the callback. Returns whether it settled, its model and its fee.
    function _fulfill(Fulfillment calldata item) private returns (bool settled, uint32 modelId, uint96 fee) {
        uint256 requestId = item.requestId;
        address requester;
        (requester, fee) = item.requesterAndFee.unpack();
        FulfillmentDetails details = item.details;
        uint40 deadline;
        uint32 callbackGasLimit;
        (modelId, deadline, callbackGasLimit) = details.terms();
        bytes32 commitment = _commitment(requester, modelId, fee, deadline, callbackGasLimit);
        if (!_close(requestId, commitment, deadline, DeadlineRule.NotPassed)) return (false, 0, 0);

        emit PredictionFulfilled(requestId, item.resultDigest);
        if (callbackGasLimit != 0) _deliver(requestId, requester, callbackGasLimit, item.resultDigest, details);
        return (true, modelId, fee);
    }

    /// @dev Deletes a pending request's commitment if `commitment` matches it and `rule`
    /// allows; otherwise reports why not and changes nothing.
    function _close(uint256 requestId, bytes32 commitment, uint40 deadline, DeadlineRule rule)
        private
        returns (bool)
    {
        bytes32 stored = _commitments[requestId];
        SkipReason reason;
        if (stored == 0 || stored == SETTLED_IN_BLOCK) {
            reason = SkipReason.NotPending;
        } else if (stored != commitment) {
            reason = SkipReason.TermsMismatch;
        } else if (rule == DeadlineRule.NotPassed && block.timestamp > deadline) {
            reason = SkipReason.Expired;
        } else if (rule == DeadlineRule.Passed && block.timestamp <= deadline) {
            reason = SkipReason.NotExpired;
        } else {
            // Settled in its own block: keep the id from being issued again (`_newRequestId`).
            _commitments[requestId] = requestId >> 96 == block.number ? SETTLED_IN_BLOCK : bytes32(0);
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
        // EIP-150 forwards at most 63/64 of the remaining gas: without this check an oracle
        // could starve a callback on purpose and still collect the fee.
        if (gasleft() < (gasLimit * 64) / 63 + CALLBACK_CALL_OVERHEAD) revert InsufficientGasForCallback(requestId);
        bytes memory data =
            abi.encodeCall(IPredictionConsumer.onPredictionResult, (requestId, digest, topClass, topScore));
        bool success;
        assembly ("memory-safe") {
            success := call(gasLimit, consumer, 0, add(data, 0x20), mload(data), 0, 0)
        }
        if (!success) emit CallbackFailed(requestId);
    }

    /// @dev Credits the fees of a run of fulfilled requests in one currency.
    function _creditFees(address token, uint256 total) private {
        if (total == 0) return;
        FeeConfig memory config = _protocolFee;
        uint256 cut = (total * config.feeBps) / 10_000;
        _balances[token][msg.sender] += total - cut;
        if (cut != 0) _balances[token][config.treasury] += cut;
        emit FeesCredited(msg.sender, token, total - cut, cut);
    }

    function _pullToken(address token, uint256 amount) private {
        IERC20 erc20 = IERC20(token);
        uint256 balanceBefore = erc20.balanceOf(address(this));
        erc20.safeTransferFrom(msg.sender, address(this), amount);
        // Fee-on-transfer and rebasing tokens would break the escrow invariant.
        if (erc20.balanceOf(address(this)) - balanceBefore != amount) revert UnsupportedToken(token);
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
