// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title TestGLM
/// @notice An ERC-20 with EIP-2612 permit standing in for Golem's GLM on local and test
/// chains. Anyone can mint: it has no value.
contract TestGLM is ERC20, ERC20Permit {
    constructor() ERC20("Test Golem Network Token", "tGLM") ERC20Permit("Test Golem Network Token") {}

    /// @notice Mints `amount` to `to`.
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @title FeeOnTransferToken
/// @notice A token that burns 1% of every transfer: the escrow must refuse it.
contract FeeOnTransferToken is ERC20 {
    constructor() ERC20("Taxed", "TAX") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 burned = value / 100;
            super._update(from, address(0), burned);
            value -= burned;
        }
        super._update(from, to, value);
    }
}

/// @title PlainToken
/// @notice An ERC-20 without EIP-2612: a permit to it fails, the allowance path must still work.
contract PlainToken is ERC20 {
    constructor() ERC20("Plain", "PLN") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// @title RebasingToken
/// @notice Balances are shares times an index the owner moves, like a rebasing token:
/// a transfer moves exactly its amount, so a balance-delta check passes, yet what the
/// escrow holds changes afterwards with no transfer at all. The escrow must refuse it.
contract RebasingToken is ERC20 {
    uint256 private constant ONE = 1e18;
    uint256 public index = ONE;

    constructor() ERC20("Rebasing", "REB") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Scales every balance by `newIndex` / 1e18 of the first one.
    function rebase(uint256 newIndex) external {
        index = newIndex;
    }

    function balanceOf(address account) public view override returns (uint256) {
        return (super.balanceOf(account) * index) / ONE;
    }

    function totalSupply() public view override returns (uint256) {
        return (super.totalSupply() * index) / ONE;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, (value * ONE) / index);
    }
}
