// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC3009} from "@openzeppelin/contracts/token/ERC20/extensions/draft-ERC3009.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title TestUSDC
/// @notice A USDC-like stablecoin for local and test chains: 6 decimals, EIP-2612 permit,
/// and EIP-3009 transfers by signed authorization (`transferWithAuthorization`,
/// `receiveWithAuthorization`, `cancelAuthorization`, `authorizationState`, with random
/// 32-byte nonces, as USDC's). `npm start` deploys it and prices a model in it, for
/// payers who hold the token and no ETH. Anyone can mint: it has no value.
/// @dev OpenZeppelin's ERC3009: the signature is checked against the EIP-712 domain
/// (name "Test USD Coin", version "1", this chain, this contract); a used or cancelled
/// nonce is refused (ERC3009UsedAuthorization); `receiveWithAuthorization` only by its
/// `to` (ERC20InvalidReceiver otherwise), so a front-runner cannot redeem it.
contract TestUSDC is ERC20, ERC20Permit, ERC3009 {
    constructor() ERC20("Test USD Coin", "tUSDC") ERC20Permit("Test USD Coin") {}

    /// @dev Mints `amount` (6 decimals) to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }
}

/// @title FeeOnTransferUSDC
/// @dev A TestUSDC that burns 1% of every transfer: the escrow must refuse it on the
/// authorization path as on the others.
contract FeeOnTransferUSDC is TestUSDC {
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 burned = value / 100;
            super._update(from, address(0), burned);
            value -= burned;
        }
        super._update(from, to, value);
    }
}
