// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {IPredictionEscrow} from "../interfaces/IPredictionEscrow.sol";
import {PredictionConsumer} from "../PredictionConsumer.sol";

/// @title CatBadge
/// @notice An example Argus consumer: submit a photo's CID and pay the quote; if the
/// ImageNet classifier says it is a cat (classes 281–285, "tabby" to "Egyptian cat")
/// with enough confidence, the submitter receives a badge NFT.
/// @dev The decision happens in the escrow's callback, so it costs the submitter the
/// callback gas in the quote. If the oracle rejects the photo or cannot answer in time,
/// the submitter gets the fee back through `claimExpired`.
contract CatBadge is ERC721, PredictionConsumer {
    /// @notice First ImageNet class that is a cat ("tabby").
    uint16 public constant FIRST_CAT_CLASS = 281;
    /// @notice Last ImageNet class that is a cat ("Egyptian cat").
    uint16 public constant LAST_CAT_CLASS = 285;
    /// @notice Callback gas each submission buys.
    /// @dev Enough for the checks, one mint and one event, with headroom.
    uint32 public constant CALLBACK_GAS_LIMIT = 120_000;

    struct Submission {
        address submitter;
        uint96 fee;
    }

    /// @notice The ImageNet classifier it asks.
    uint32 public immutable modelId;
    /// @notice Least confidence (basis points) that counts as a cat.
    uint16 public immutable minScoreBps;
    /// @notice Badges minted so far (the last badge's id).
    uint256 public badgeCount;
    /// @notice Who submitted each unjudged request, and what they paid.
    mapping(uint256 requestId => Submission) public submissions;

    /// @notice A submitted photo was judged.
    /// @param requestId The escrow's request.
    /// @param submitter Who submitted it.
    /// @param isCat Whether it earned a badge.
    /// @param topClass The classifier's top class.
    /// @param topScore Its score in basis points.
    event CatJudged(uint256 indexed requestId, address indexed submitter, bool isCat, uint16 topClass, uint16 topScore);

    error UnknownSubmission(uint256 requestId);
    error NotSubmitter(uint256 requestId);
    error NotExpired(uint256 requestId);
    error AlreadyAnswered(uint256 requestId);
    error RefundFailed(uint256 requestId, address to);

    /// @notice Deploys the badge for one escrow and classifier.
    /// @param escrow_ The Argus escrow.
    /// @param modelId_ A native-priced ImageNet classifier registered there.
    /// @param minScoreBps_ Least confidence (basis points) that counts as a cat.
    constructor(IPredictionEscrow escrow_, uint32 modelId_, uint16 minScoreBps_)
        ERC721("Argus Cat Badge", "MEOW")
        PredictionConsumer(escrow_)
    {
        modelId = modelId_;
        minScoreBps = minScoreBps_;
    }

    /// @notice The exact `msg.value` `submit` takes.
    /// @return fee The classifier's fee with this contract's callback gas.
    function quote() external view returns (uint256 fee) {
        (, fee) = _quote(modelId, CALLBACK_GAS_LIMIT);
    }

    /// @notice Asks whether the image at `imageCid` shows a cat. Pay `quote()`: the
    /// payment is also the most the request may cost, so a price raised meanwhile makes
    /// this revert (FeeAboveMax) instead of charging more.
    /// @dev Emits the escrow's PredictionRequested. Reverts as the escrow's
    /// `requestPredictionWithCallback` (e.g. IncorrectPayment, FeeAboveMax, DeadlineTooLate).
    /// @param imageCid Raw bytes of the image's IPFS CID.
    /// @param latestDeadline The latest deadline (unix seconds) the submitter accepts for
    /// the answer, after which the fee can be claimed back.
    /// @return requestId The escrow's request id.
    function submit(bytes calldata imageCid, uint40 latestDeadline) external payable returns (uint256 requestId) {
        requestId = _requestPrediction(modelId, imageCid, CALLBACK_GAS_LIMIT, msg.value, latestDeadline);
        submissions[requestId] = Submission(msg.sender, uint96(msg.value));
    }

    /// @notice Refunds an unanswered submission: one past its deadline, or one the oracle
    /// rejected. Only its submitter may claim, and names where the fee goes, so a
    /// submitter that cannot receive ETH itself (a contract) can still get it back.
    /// @dev Emits the escrow's PredictionExpired and Withdrawn when they happen. Reverts
    /// UnknownSubmission, NotSubmitter, NotExpired (still pending, or the wrong terms),
    /// AlreadyAnswered (fulfilled, even when its callback failed: see `_settleRefund`),
    /// RefundFailed when `to` refuses the ETH.
    /// @param terms The request's terms, from its `PredictionRequested` event.
    /// @param to Receives the fee.
    function claimExpired(IPredictionEscrow.RequestTerms calldata terms, address payable to) external {
        Submission memory submission = submissions[terms.requestId];
        if (submission.submitter == address(0)) revert UnknownSubmission(terms.requestId);
        if (submission.submitter != msg.sender) revert NotSubmitter(terms.requestId);
        IPredictionEscrow.RequestStatus status = _settleRefund(terms);
        if (status == IPredictionEscrow.RequestStatus.Pending) revert NotExpired(terms.requestId);
        if (status != IPredictionEscrow.RequestStatus.Rejected && status != IPredictionEscrow.RequestStatus.Expired) {
            revert AlreadyAnswered(terms.requestId);
        }
        delete submissions[terms.requestId];
        // An earlier claim may have withdrawn this refund with its own: hand exactly the
        // fee paid on.
        _withdrawRefunds(address(0), address(this));
        (bool sent,) = to.call{value: submission.fee}("");
        if (!sent) revert RefundFailed(terms.requestId, to);
    }

    /// @dev Emits CatJudged (and Transfer when it mints). Reverts UnknownSubmission for a
    /// request it did not make.
    function _onPredictionResult(uint256 requestId, bytes32, uint16 topClass, uint16 topScore) internal override {
        address submitter = submissions[requestId].submitter;
        if (submitter == address(0)) revert UnknownSubmission(requestId);
        delete submissions[requestId];

        bool isCat = topClass >= FIRST_CAT_CLASS && topClass <= LAST_CAT_CLASS && topScore >= minScoreBps;
        // _mint, not _safeMint: a receiver hook would spend gas the callback limit does not cover.
        if (isCat) _mint(submitter, ++badgeCount);
        emit CatJudged(requestId, submitter, isCat, topClass, topScore);
    }
}
