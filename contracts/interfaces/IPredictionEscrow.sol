// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {FulfillmentDetails, RequesterAndFee} from "../libraries/Fulfillment.sol";
import {IModelRegistry} from "./IModelRegistry.sol";

/// @title IPredictionEscrow
/// @notice Paid prediction requests, their batched settlement by the oracle, refunds,
/// and pull payments.
/// @dev A request is stored as one commitment, keccak256(abi.encode(requester, modelId,
/// fee, deadline, callbackGasLimit)); whoever settles it supplies those terms again (they
/// are all in `PredictionRequested`). Request ids are never issued twice: a hash under
/// the block number (block number above 96 bits of hash). Fees stay in the
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
        NotExpired // reclaim before the deadline
    }

    /// @notice EIP-2612 signature letting the escrow pull a token fee in the same call.
    struct PermitSignature {
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice A paid request; everything the oracle and indexers need.
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
    event PredictionFulfilled(uint256 indexed requestId, bytes32 resultDigest);

    /// @notice A consumer's callback reverted or ran out of gas; the result stands.
    event CallbackFailed(uint256 indexed requestId);

    /// @notice The oracle refused a request's input; its fee is refunded to the requester.
    event PredictionRejected(uint256 indexed requestId, RejectReason reason);

    /// @notice An unanswered request passed its deadline and was refunded to the requester.
    event PredictionExpired(uint256 indexed requestId);

    /// @notice A batch item or a reclaim was skipped; nothing changed for that request.
    event SettlementSkipped(uint256 indexed requestId, SkipReason reason);

    /// @notice Fees of fulfilled requests were credited: `amount` to the oracle,
    /// `protocolFee` to the treasury.
    event FeesCredited(address indexed oracle, address indexed token, uint256 amount, uint256 protocolFee);

    /// @notice A balance was paid out.
    event Withdrawn(address indexed account, address indexed token, address to, uint256 amount);

    /// @notice The protocol fee or its treasury changed.
    event ProtocolFeeChanged(address treasury, uint16 feeBps);

    error ModelNotActive(uint32 modelId);
    error InvalidImageCid();
    error CallbackGasLimitTooHigh(uint32 limit, uint32 max);
    error IncorrectPayment(uint256 expected, uint256 paid);
    error FeeOverflow();
    error NotTokenPriced(uint32 modelId);
    error UnsupportedToken(address token);
    error InsufficientGasForCallback(uint256 requestId);
    error NothingToWithdraw();
    error InvalidProtocolFee();

    /// @notice Pays for a prediction by model `modelId` on the image at `imageCid`.
    /// @dev Native-priced models take exactly the quoted fee as `msg.value`; token-priced
    /// ones pull the fee with `transferFrom` (approve first, or use the permit variant).
    /// Reverts while paused.
    /// @param modelId The model.
    /// @param imageCid Raw bytes of the image's CID (CIDv0 multihash or CIDv1), 2 to 128 bytes.
    /// @return requestId The request's id.
    function requestPrediction(uint32 modelId, bytes calldata imageCid) external payable returns (uint256 requestId);

    /// @notice As `requestPrediction`, with the result delivered to the caller's
    /// `IPredictionConsumer.onPredictionResult` under `callbackGasLimit` gas.
    /// @param modelId The model.
    /// @param imageCid Raw bytes of the image's CID.
    /// @param callbackGasLimit Gas for the callback; the quote charges it at the model's `callbackGasPrice`.
    /// @return requestId The request's id.
    function requestPredictionWithCallback(uint32 modelId, bytes calldata imageCid, uint32 callbackGasLimit)
        external
        payable
        returns (uint256 requestId);

    /// @notice Pays a token-priced model's fee with an EIP-2612 permit in the same transaction.
    /// @dev A permit that fails (e.g. front-run) is ignored when the allowance already suffices.
    /// @param modelId A token-priced model.
    /// @param imageCid Raw bytes of the image's CID.
    /// @param callbackGasLimit Gas for a callback to the caller, or 0 for none.
    /// @param permit The signature over (caller, this contract, quoted fee, deadline).
    /// @return requestId The request's id.
    function requestPredictionWithPermit(
        uint32 modelId,
        bytes calldata imageCid,
        uint32 callbackGasLimit,
        PermitSignature calldata permit
    ) external returns (uint256 requestId);

    /// @notice Posts answers. Items that are not pending, do not match their commitment
    /// or are past their deadline are skipped with `SettlementSkipped`, so a retried batch is harmless.
    /// @dev Requires ORACLE_ROLE. Fees are credited to the caller once per run of equal fee tokens.
    /// Reverts if too little gas is left to give a callback its full limit.
    /// @param batch The answers.
    function fulfillBatch(Fulfillment[] calldata batch) external;

    /// @notice Refuses unusable inputs; each requester is credited its whole fee.
    /// @dev Requires ORACLE_ROLE. Skips like `fulfillBatch` (an expired request can still be rejected).
    /// @param batch The rejections.
    function rejectBatch(Rejection[] calldata batch) external;

    /// @notice Refunds an unanswered request after its deadline; anyone may call it.
    /// @param terms The request's terms, from its `PredictionRequested` event.
    /// @return refunded Whether the request was refunded (otherwise `SettlementSkipped` says why).
    function reclaim(RequestTerms calldata terms) external returns (bool refunded);

    /// @notice Pays out the caller's whole balance of `token` (address(0): native) to `to`.
    /// @param token The currency.
    /// @param to The recipient; a contract that cannot receive ETH withdraws to another address.
    function withdraw(address token, address to) external;

    /// @notice Sets the share of fulfilled fees that goes to `treasury`.
    /// @dev Requires DEFAULT_ADMIN_ROLE. At most MAX_PROTOCOL_FEE_BPS.
    function setProtocolFee(address treasury, uint16 feeBps) external;

    /// @notice Stops new requests. Settlement, refunds and withdrawals go on.
    /// @dev Requires DEFAULT_ADMIN_ROLE.
    function pause() external;

    /// @notice Reopens new requests.
    /// @dev Requires DEFAULT_ADMIN_ROLE.
    function unpause() external;

    /// @notice The fee for a request, in the model's currency.
    /// @param modelId The model.
    /// @param callbackGasLimit Callback gas, or 0 without a callback.
    /// @return token The fee currency (address(0): native).
    /// @return amount The exact amount to pay.
    function quote(uint32 modelId, uint32 callbackGasLimit) external view returns (address token, uint256 amount);

    /// @notice Whether a request is paid for and not yet settled.
    function isPending(uint256 requestId) external view returns (bool);

    /// @notice The stored commitment of a pending request (zero once settled).
    function commitmentOf(uint256 requestId) external view returns (bytes32);

    /// @notice What `account` can withdraw in `token` (address(0): native).
    function balanceOf(address token, address account) external view returns (uint256);

    /// @notice The protocol fee's treasury and rate.
    function protocolFee() external view returns (address treasury, uint16 feeBps);
}
