// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title RequestAuthorizationLib
/// @notice The one on-chain definition of the nonce an EIP-3009 authorization carries when
/// it pays for a request (`IPredictionEscrow.requestPredictionWithAuthorization`).
/// (Off-chain, `requestAuthorizationNonce` in contracts/client/src/request-authorization.ts
/// mirrors it; a contract test checks the two agree.)
/// @dev EIP-3009 leaves the nonce to the signer: any 32 bytes not used before by the same
/// `from`. Argus makes it commit to the request it pays for, so that whoever relays the
/// signed authorization can spend it on that request only: the escrow recomputes the
/// nonce from the request's arguments and refuses an authorization whose nonce differs.
///
///     nonce = keccak256(abi.encode(
///         REQUEST_TYPEHASH,
///         escrow,              address   the escrow that redeems it
///         chainId,             uint256   block.chainid
///         modelId,             uint32
///         keccak256(imageCid), bytes32   the CID's raw bytes, hashed
///         maxFee,              uint256
///         callbackGasLimit,    uint32
///         latestDeadline       uint40
///     ))
///
/// which is EIP-712's `hashStruct` of an `ArgusPredictionRequest` (REQUEST_TYPEHASH below):
/// the type hash is the domain tag, and a `bytes` member is encoded as its keccak256, as
/// EIP-712 prescribes, so typed-data libraries compute it with no hand-written encoding.
/// There is no EIP-712 domain separator of its own: the escrow and the chain are members,
/// and the nonce is hashed again inside the token's own EIP-712 domain when the
/// authorization is signed. The payer (`from`) and the amount (`value`) are not members:
/// the token's signature already binds both.
library RequestAuthorizationLib {
    /// @notice keccak256 of the EIP-712 type whose struct hash is the nonce,
    /// `ArgusPredictionRequest(address escrow,uint256 chainId,uint32 modelId,bytes imageCid,
    /// uint256 maxFee,uint32 callbackGasLimit,uint40 latestDeadline)`: the first word
    /// hashed, the domain tag that keeps these nonces apart from any other 32-byte hash.
    /// (The hash of a literal is computed by the compiler; a named string constant would be
    /// hashed at run time and put its 140 bytes in the escrow's code.)
    // solhint-disable-next-line gas-small-strings
    bytes32 internal constant REQUEST_TYPEHASH = keccak256(
        "ArgusPredictionRequest(address escrow,uint256 chainId,uint32 modelId,bytes imageCid,uint256 maxFee,uint32 callbackGasLimit,uint40 latestDeadline)"
    );

    /// @notice The nonce an authorization paying for this request must carry.
    /// @param escrow The escrow that redeems the authorization.
    /// @param chainId The chain's id.
    /// @param modelId The model.
    /// @param imageCid Raw bytes of the image's CID.
    /// @param maxFee The most the request may cost.
    /// @param callbackGasLimit Gas for the requester's callback (0: none).
    /// @param latestDeadline The latest deadline the request accepts.
    /// @return The nonce.
    function nonce(
        address escrow,
        uint256 chainId,
        uint32 modelId,
        bytes calldata imageCid,
        uint256 maxFee,
        uint32 callbackGasLimit,
        uint40 latestDeadline
    ) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                REQUEST_TYPEHASH,
                escrow,
                chainId,
                modelId,
                keccak256(imageCid),
                maxFee,
                callbackGasLimit,
                latestDeadline
            )
        );
    }
}
