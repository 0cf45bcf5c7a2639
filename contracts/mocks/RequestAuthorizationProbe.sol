// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RequestAuthorizationLib} from "../libraries/RequestAuthorization.sol";

/// @dev Exposes RequestAuthorizationLib so a test can check it against the off-chain
/// `requestAuthorizationNonce`, field by field, at each field's extremes.
contract RequestAuthorizationProbe {
    function nonce(
        address escrow,
        uint256 chainId,
        uint32 modelId,
        bytes calldata imageCid,
        uint256 maxFee,
        uint32 callbackGasLimit,
        uint40 latestDeadline
    ) external pure returns (bytes32) {
        return RequestAuthorizationLib.nonce(escrow, chainId, modelId, imageCid, maxFee, callbackGasLimit, latestDeadline);
    }

    function requestTypehash() external pure returns (bytes32) {
        return RequestAuthorizationLib.REQUEST_TYPEHASH;
    }
}
