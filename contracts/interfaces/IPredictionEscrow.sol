// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {FulfillmentDetails, RequesterAndFee} from "../libraries/Fulfillment.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

/// @title IPredictionEscrow
/// @notice Paid prediction requests, their batched settlement by each model's operators,
/// refunds, and pull payments.
/// @dev A request is stored as one commitment, keccak256(abi.encode(requester, modelId,
/// fee, deadline, callbackGasLimit)); whoever settles it supplies those terms again (they
/// are all in `PredictionRequested`). Request ids are never issued twice: the block
/// number in the bits from 96 up (a uint64, so bits 96 to 159), 96 bits of a hash below
/// it; they stay under 2^128 while block numbers stay under 2^32. Fees stay in the
/// contract until withdrawn.
interface IPredictionEscrow is IModelRegistry {
    /// @notice What a request committed to; read it from `PredictionRequested`.
    struct RequestTerms {
        uint256 requestId;
        address requester;
        uint32 modelId;
        uint96 fee;
        uint40 deadline;
        uint32 callbackGasLimit;
    }

    /// @notice One answer in a `fulfillBatch`, packed into four words: calldata is the
    /// largest per-request cost of a batch, and ABI-encoding nine fields would double it.
    /// The packed words are uint256 in the ABI; their layout is in `FulfillmentLib`.
    /// @param requestId The request.
    /// @param requesterAndFee The request's requester and fee.
    /// @param details The request's modelId, deadline and callbackGasLimit, and the
    /// answer's top class (65535: nothing detected) and top score (basis points).
    /// @param resultDigest sha256 of the canonical result JSON (pinned to IPFS as a raw block).
    struct Fulfillment {
        uint256 requestId;
        RequesterAndFee requesterAndFee;
        FulfillmentDetails details;
        bytes32 resultDigest;
    }

    /// @notice One unusable input in a `rejectBatch`.
    struct Rejection {
        RequestTerms terms;
        RejectReason reason;
    }

    /// @notice Why the oracle refused to work on a request.
    enum RejectReason {
        Unspecified,
        NotAnImage,
        TooLarge,
        Unretrievable,
        UnsupportedFormat,
        InvalidCid,
        DecodeFailed
    }

    /// @notice Why an item of a batch, or a reclaim, changed nothing.
    enum SkipReason {
        NotPending, // never requested, or already settled
        TermsMismatch, // the terms do not hash to the stored commitment
        Expired, // past its deadline: only a refund is possible now
        NotExpired, // reclaim before the deadline
        NotOperator, // the caller does not operate the item's model
        InsufficientCallbackGas // too little gas left to give its callback its whole limit: still pending
    }

    /// @notice Where a request stands (`statusOf`).
    /// @dev A fulfilled request leaves nothing in storage (clearing its slot earns the
    /// refund that keeps fulfilment under 8,000 gas an item), so an id that was never
    /// issued, from a past block, also reads as Fulfilled: ask about ids a request returned.
    enum RequestStatus {
        None, // no such request: an id of the current or a future block not (yet) issued
        Pending, // paid, not settled: it may still be fulfilled, rejected or reclaimed
        Fulfilled, // answered (its callback, if any, may have failed: see CallbackFailed)
        Rejected, // refused by the operator; the fee was credited to the requester
        Expired // reclaimed after its deadline; the fee was credited to the requester
    }

    /// @notice EIP-2612 signature letting the escrow pull a token fee in the same call.
    struct PermitSignature {
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice An EIP-3009 `ReceiveWithAuthorization` signed by the payer `from` for the
    /// escrow (`to` is the escrow, so only the escrow can redeem it), paying for one request.
    /// @param from The payer, recorded as the request's requester.
    /// @param value The amount: exactly the request's fee.
    /// @param validAfter Unix time after which it is valid (EIP-3009).
    /// @param validBefore Unix time before which it is valid (EIP-3009).
    /// @param nonce `RequestAuthorizationLib.nonce` of the request it pays for.
    /// @param v Signature.
    /// @param r Signature.
    /// @param s Signature.
    /// (Calldata only, never stored: its fields are in EIP-3009's order, whatever the
    /// packing rule says.)
    // solhint-disable-next-line gas-struct-packing
    struct ReceiveAuthorization {
        address from;
        uint256 value;
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice A paid request; everything the oracle and indexers need.
    /// @param requestId Its id.
    /// @param requester Who paid; callbacks go to it, refunds are credited to it.
    /// @param modelId The model.
    /// @param imageCid Raw bytes of the image's CID.
    /// @param fee What it paid, in the model's currency.
    /// @param deadline Latest time (unix seconds) it may be fulfilled; reclaimable after it.
    /// @param callbackGasLimit Gas for its callback (0: none).
    event PredictionRequested(
        uint256 indexed requestId,
        address indexed requester,
        uint32 indexed modelId,
        bytes imageCid,
        uint96 fee,
        uint40 deadline,
        uint32 callbackGasLimit
    );

    /// @notice A request was answered; the result's CID is CIDv1(raw, sha2-256, resultDigest).
    /// @dev The top class and score are not repeated here: they are in the result the
    /// digest names, in the `fulfillBatch` calldata and in the consumer's callback, and
    /// logging two more words would cost every fulfilment ~500 gas.
    /// @param requestId The request.
    /// @param resultDigest sha256 of the canonical result JSON.
    event PredictionFulfilled(uint256 indexed requestId, bytes32 resultDigest);

    /// @notice A consumer's callback reverted or ran out of gas; the result stands.
    /// @param requestId The request.
    event CallbackFailed(uint256 indexed requestId);

    /// @notice The operator refused a request's input; `refund` (its whole fee) was credited
    /// to the requester's withdrawable balance.
    /// @param requestId The request.
    /// @param reason Why its input is unusable.
    /// @param refund The amount credited, in the model's currency.
    event PredictionRejected(uint256 indexed requestId, RejectReason reason, uint256 refund);

    /// @notice An unanswered request passed its deadline; `refund` (its whole fee) was
    /// credited to the requester's withdrawable balance.
    /// @param requestId The request.
    /// @param refund The amount credited, in the model's currency.
    event PredictionExpired(uint256 indexed requestId, uint256 refund);

    /// @notice A batch item or a reclaim was skipped; nothing changed for that request.
    /// @param requestId The item's request id.
    /// @param reason Why.
    event SettlementSkipped(uint256 indexed requestId, SkipReason reason);

    /// @notice Fees of fulfilled requests were credited: `amount` to the operator that
    /// settled them, `protocolFee` to `treasury`.
    /// @param oracle The operator that settled them.
    /// @param token Their currency (address(0): native).
    /// @param amount Credited to the operator.
    /// @param treasury Receiver of the protocol fee.
    /// @param protocolFee Credited to the treasury.
    event FeesCredited(
        address indexed oracle, address indexed token, uint256 amount, address treasury, uint256 protocolFee
    );

    /// @notice A balance was paid out.
    /// @param account Whose balance.
    /// @param token The currency (address(0): native).
    /// @param to Who received it.
    /// @param amount How much.
    event Withdrawn(address indexed account, address indexed token, address to, uint256 amount);

    /// @notice The protocol fee or its treasury changed.
    /// @param treasury Receiver of the protocol fee.
    /// @param feeBps The fee, in basis points of each fulfilled request's fee.
    event ProtocolFeeChanged(address treasury, uint16 feeBps);

    error ModelNotActive(uint32 modelId);
    error InvalidImageCid();
    error CallbackGasLimitTooHigh(uint32 limit, uint32 max);
    error CallbacksNotOffered(uint32 modelId);
    error IncorrectPayment(uint256 expected, uint256 paid);
    error FeeAboveMax(uint256 fee, uint256 maxFee);
    error DeadlineTooLate(uint40 deadline, uint40 latestDeadline);
    error FeeOverflow();
    error NotTokenPriced(uint32 modelId);
    error UnsupportedToken(address token);
    error InsufficientGasForCallback(uint256 requestId);
    error NothingToWithdraw();
    error InvalidRecipient(address to);
    error InvalidProtocolFee();
    error AuthorizationNonceMismatch(bytes32 expected, bytes32 nonce);
    error AuthorizationValueMismatch(uint256 value, uint256 fee);

    /// @notice Pays for a prediction by model `modelId` on the image at `imageCid`.
    /// @dev Native-priced models take exactly the fee as `msg.value`; token-priced ones
    /// pull it with `transferFrom` (approve first, or use the permit variant). The request
    /// names the most it pays and the latest deadline it accepts, so a model update landing
    /// first (even in the same block) can neither charge it more nor lock its fee longer:
    /// pass the fee and the deadline you quoted your user, never a fresh `quote` read
    /// on-chain in the same transaction.
    /// Emits PredictionRequested. Reverts EnforcedPause while paused, UnknownModel,
    /// ModelNotActive, InvalidImageCid, FeeAboveMax, DeadlineTooLate,
    /// IncorrectPayment(expected, paid), FeeTokenNotAllowed (a token the admin no longer
    /// allows), UnsupportedToken (a token that did not arrive in full), and when the token
    /// transfer fails SafeERC20FailedOperation or the token's own error.
    /// @param modelId The model.
    /// @param imageCid Raw bytes of the image's CID (CIDv0 multihash or CIDv1), 2 to 128 bytes.
    /// @param maxFee The most this request may cost (`quote(modelId, 0)` when you asked).
    /// @param latestDeadline The latest deadline (unix seconds) you accept: the request's
    /// deadline is now + the model's response window.
    /// @return requestId The request's id.
    function requestPrediction(uint32 modelId, bytes calldata imageCid, uint256 maxFee, uint40 latestDeadline)
        external
        payable
        returns (uint256 requestId);

    /// @notice As `requestPrediction`, with the result delivered to the caller's
    /// `IPredictionConsumer.onPredictionResult` under `callbackGasLimit` gas.
    /// @dev Emits PredictionRequested. Reverts as `requestPrediction`, and
    /// CallbackGasLimitTooHigh above MAX_CALLBACK_GAS_LIMIT, CallbacksNotOffered for a
    /// model whose callback gas price is zero, FeeOverflow for a fee beyond uint96.
    /// @param modelId The model.
    /// @param imageCid Raw bytes of the image's CID.
    /// @param callbackGasLimit Gas for the callback; the quote charges it at the model's `callbackGasPrice`.
    /// @param maxFee The most this request may cost (`quote(modelId, callbackGasLimit)` when you asked).
    /// @param latestDeadline The latest deadline (unix seconds) you accept.
    /// @return requestId The request's id.
    function requestPredictionWithCallback(
        uint32 modelId,
        bytes calldata imageCid,
        uint32 callbackGasLimit,
        uint256 maxFee,
        uint40 latestDeadline
    ) external payable returns (uint256 requestId);

    /// @notice Pays a token-priced model's fee with an EIP-2612 permit in the same transaction.
    /// @dev The permit is used only when the allowance is below the fee, so it never
    /// replaces a larger standing approval; a permit that fails (e.g. front-run) is ignored
    /// when the allowance suffices anyway. Emits PredictionRequested (and the token's
    /// Approval, when the permit is used). Reverts as `requestPredictionWithCallback`, and
    /// NotTokenPriced for a native-priced model.
    /// @param modelId A token-priced model.
    /// @param imageCid Raw bytes of the image's CID.
    /// @param callbackGasLimit Gas for a callback to the caller, or 0 for none.
    /// @param maxFee The most this request may cost; also the permit's value.
    /// @param latestDeadline The latest deadline (unix seconds) you accept.
    /// @param permit The signature over (caller, this contract, maxFee, deadline).
    /// @return requestId The request's id.
    function requestPredictionWithPermit(
        uint32 modelId,
        bytes calldata imageCid,
        uint32 callbackGasLimit,
        uint256 maxFee,
        uint40 latestDeadline,
        PermitSignature calldata permit
    ) external returns (uint256 requestId);

    /// @notice Pays a token-priced model's fee with an EIP-3009 authorization signed by the
    /// payer, so that anyone — a relayer paying the gas — can send the request for a payer
    /// who holds the token and no native currency. The payer, not the caller, is the
    /// requester: callbacks go to it, refunds of rejection and expiry are credited to it.
    /// @dev The escrow redeems the authorization with the token's `receiveWithAuthorization`,
    /// which only the authorization's `to` may call: nobody who sees it can spend it first.
    /// Its nonce must be `RequestAuthorizationLib.nonce(this, chainid, modelId, imageCid,
    /// maxFee, callbackGasLimit, latestDeadline)`, so a relayer cannot spend it on another
    /// request, and the token refuses it a second time. Its value must be exactly the fee:
    /// EIP-3009 moves exactly what was signed, and anything above the fee would be left in
    /// the escrow as a balance a payer without gas could not withdraw; if the model's fee
    /// changed since, the request reverts and nothing moves (sign again). Copying a relayed
    /// transaction only makes the same request, paid by the same payer. Two identical
    /// requests would share a nonce, which the token takes once: vary `latestDeadline`.
    /// Emits PredictionRequested (and the token's AuthorizationUsed and Transfer). Reverts as
    /// `requestPredictionWithPermit`, and AuthorizationNonceMismatch(expected, nonce) for a
    /// nonce of another request, AuthorizationValueMismatch(value, fee) when the value is
    /// not the fee, and with the token's own error for a bad signature, an authorization
    /// used or cancelled before or outside its validity window, or a balance short of the fee.
    /// @param modelId A token-priced model whose token implements EIP-3009.
    /// @param imageCid Raw bytes of the image's CID.
    /// @param callbackGasLimit Gas for a callback to the payer, or 0 for none.
    /// @param maxFee The most this request may cost; the authorization's value is its fee.
    /// @param latestDeadline The latest deadline (unix seconds) the payer accepts.
    /// @param authorization The payer's signed `ReceiveWithAuthorization` to this escrow.
    /// @return requestId The request's id.
    function requestPredictionWithAuthorization(
        uint32 modelId,
        bytes calldata imageCid,
        uint32 callbackGasLimit,
        uint256 maxFee,
        uint40 latestDeadline,
        ReceiveAuthorization calldata authorization
    ) external returns (uint256 requestId);

    /// @notice Posts answers. Items that are not pending, do not match their commitment,
    /// are past their deadline or belong to a model the caller does not operate are skipped
    /// with `SettlementSkipped`, so a retried batch is harmless; so is an item whose callback
    /// the remaining gas could not give its whole limit (it stays pending for a later batch).
    /// @dev Only a model's operators settle its requests; fees are credited to the caller,
    /// once per run of equal fee tokens. Each callback gets exactly its paid limit and its
    /// failure never fails the batch.
    /// Emits, per item, PredictionFulfilled (then CallbackFailed if its callback reverted or
    /// ran out of gas) or SettlementSkipped(reason); FeesCredited per run of one currency.
    /// Reverts ReentrancyGuardReentrantCall from a callback, and InsufficientGasForCallback
    /// if a callback was nonetheless given less than its limit (a guard: the check before
    /// each call leaves room for its cost, so only a change in the EVM's gas schedule could
    /// trigger it).
    /// @param batch The answers.
    function fulfillBatch(Fulfillment[] calldata batch) external;

    /// @notice Refuses unusable inputs; each requester is credited its whole fee.
    /// @dev Only a model's operators reject its requests. Skips like `fulfillBatch` (an
    /// expired request can still be rejected). Emits PredictionRejected or
    /// SettlementSkipped per item. Reverts ReentrancyGuardReentrantCall from a callback.
    /// @param batch The rejections.
    function rejectBatch(Rejection[] calldata batch) external;

    /// @notice Refunds an unanswered request after its deadline; anyone may call it.
    /// @dev Emits PredictionExpired, or SettlementSkipped (NotPending, TermsMismatch,
    /// NotExpired). Reverts ReentrancyGuardReentrantCall from a callback.
    /// @param terms The request's terms, from its `PredictionRequested` event.
    /// @return refunded Whether the request was refunded (otherwise `SettlementSkipped` says why).
    function reclaim(RequestTerms calldata terms) external returns (bool refunded);

    /// @notice Pays out the caller's whole balance of `token` (address(0): native) to `to`.
    /// @dev Emits Withdrawn (and the token's Transfer). Reverts NothingToWithdraw,
    /// InvalidRecipient for the zero address or the escrow itself, FailedCall (native) when
    /// `to` refuses the ETH, SafeERC20FailedOperation or the token's own error when its
    /// transfer fails, ReentrancyGuardReentrantCall from a callback.
    /// @param token The currency.
    /// @param to The recipient; a contract that cannot receive ETH withdraws to another address.
    function withdraw(address token, address to) external;

    /// @notice Sets the share of fulfilled fees that goes to `treasury` (rounded up).
    /// @dev Requires DEFAULT_ADMIN_ROLE. Emits ProtocolFeeChanged. Reverts
    /// AccessControlUnauthorizedAccount without the role, InvalidProtocolFee above
    /// MAX_PROTOCOL_FEE_BPS or for a non-zero fee without a treasury.
    /// @param treasury Receiver of the protocol fee.
    /// @param feeBps The fee, in basis points of each fulfilled request's fee.
    function setProtocolFee(address treasury, uint16 feeBps) external;

    /// @notice Stops new requests. Settlement, refunds and withdrawals go on.
    /// @dev Requires DEFAULT_ADMIN_ROLE. Emits Paused. Reverts
    /// AccessControlUnauthorizedAccount without the role, EnforcedPause when paused.
    function pause() external;

    /// @notice Reopens new requests.
    /// @dev Requires DEFAULT_ADMIN_ROLE. Emits Unpaused. Reverts
    /// AccessControlUnauthorizedAccount without the role, ExpectedPause when not paused.
    function unpause() external;

    /// @notice The fee for a request, in the model's currency: what to show your user, and
    /// to pass as the request's `maxFee`.
    /// @param modelId The model.
    /// @param callbackGasLimit Callback gas, or 0 without a callback.
    /// @return token The fee currency (address(0): native).
    /// @return amount The exact amount to pay.
    function quote(uint32 modelId, uint32 callbackGasLimit) external view returns (address token, uint256 amount);

    /// @notice Whether a request is paid for and not yet settled.
    /// @param requestId The request.
    /// @return Whether it is pending.
    function isPending(uint256 requestId) external view returns (bool);

    /// @notice Where a request stands: pending, fulfilled, rejected or expired (see
    /// `RequestStatus` for what an id never issued reads as).
    /// @param requestId The request.
    /// @return Its status.
    function statusOf(uint256 requestId) external view returns (RequestStatus);

    /// @notice The stored commitment of a pending request (zero once settled).
    /// @param requestId The request.
    /// @return keccak256 of its terms, or zero.
    function commitmentOf(uint256 requestId) external view returns (bytes32);

    /// @notice What `account` can withdraw in `token` (address(0): native).
    /// @param token The currency.
    /// @param account The account.
    /// @return Its withdrawable balance.
    function balanceOf(address token, address account) external view returns (uint256);

    /// @notice The protocol fee's treasury and rate.
    /// @return treasury Receiver of the protocol fee.
    /// @return feeBps The fee, in basis points of each fulfilled request's fee.
    function protocolFee() external view returns (address treasury, uint16 feeBps);
}
